//! The schedule of connections: when each syncs next, how it is doing, and resuming a
//! schedule that credential failures paused.

use application::access::Operation;
use application::schedule::{Health, HealthState};
use async_graphql::{ComplexObject, Context, Enum, Object, Result, SimpleObject, ID};
use chrono::{DateTime, Utc};

use super::errors::GqlResult;
use super::query::{caller, connection_id, use_cases};
use super::types::Connection;

/// How a connection is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(name = "HealthState")]
pub enum HealthStateGql {
    /// Its last run succeeded, or none failed yet.
    Ok,
    /// Its last runs failed; its schedule backs off.
    Failing,
    /// Authentication or permission failures in a row paused its schedule; save new
    /// credentials or resume it.
    Paused,
}

impl From<HealthState> for HealthStateGql {
    fn from(state: HealthState) -> Self {
        match state {
            HealthState::Ok => Self::Ok,
            HealthState::Failing => Self::Failing,
            HealthState::Paused => Self::Paused,
        }
    }
}

/// A connection's health.
#[derive(Debug, SimpleObject)]
pub struct ConnectionHealth {
    /// OK, failing or paused.
    pub state: HealthStateGql,
    /// Why it is failing or paused.
    pub reason: Option<String>,
    /// Failed runs in a row (cancelled runs aside).
    pub consecutive_failures: u32,
}

impl From<Health> for ConnectionHealth {
    fn from(health: Health) -> Self {
        Self {
            state: health.state.into(),
            reason: health.reason,
            consecutive_failures: health.consecutive_failures,
        }
    }
}

#[ComplexObject]
impl Connection {
    /// When the next scheduled run is due: in the past while it waits for a worker or for
    /// the run in progress to end. Null unless the connection is automatic, active and not
    /// paused.
    #[graphql(complexity = 50)]
    async fn next_run_at(&self, ctx: &Context<'_>) -> Result<Option<DateTime<Utc>>> {
        let id = connection_id(&self.id)?;
        let view = use_cases(ctx)?
            .schedules
            .view(caller(ctx)?, id)
            .await
            .gql()?;
        Ok(view.next_run_at)
    }

    /// How the connection's runs are doing.
    #[graphql(complexity = 50)]
    async fn health(&self, ctx: &Context<'_>) -> Result<ConnectionHealth> {
        let id = connection_id(&self.id)?;
        let view = use_cases(ctx)?
            .schedules
            .view(caller(ctx)?, id)
            .await
            .gql()?;
        Ok(view.health.into())
    }
}

/// Mutations of connection schedules.
#[derive(Debug, Default)]
pub struct ScheduleMutation;

#[Object]
impl ScheduleMutation {
    /// Resumes a connection's schedule that authentication or permission failures paused; its
    /// next run is due at once. A schedule that is not paused stays as it is. Admins only.
    #[graphql(complexity = 100)]
    async fn resume_schedule(&self, ctx: &Context<'_>, connection_id: ID) -> Result<Connection> {
        let caller = caller(ctx)?;
        caller.require(Operation::ResumeSchedules).gql()?;
        let id = super::query::connection_id(&connection_id)?;
        let use_cases = use_cases(ctx)?;
        use_cases.schedules.resume(caller, id).await.gql()?;
        let view = use_cases.connections.get(caller, id).await.gql()?;
        Ok(view.into())
    }
}
