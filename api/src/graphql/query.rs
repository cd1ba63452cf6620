//! Read operations.

use application::access::{Caller, Operation};
use async_graphql::{Context, Object, Result, ID};
use domain::ids::ConnectionId;

use super::errors::{token_expired, GqlResult};
use super::types::{Account, Connection, Me, SyncRunGql};
use super::UseCases;
use crate::auth::TokenExpiry;
use application::AppError;
use domain::sync_run::SyncRunId;

/// The query root.
#[derive(Debug, Default)]
pub struct QueryRoot;

#[Object]
impl QueryRoot {
    /// Who is calling.
    async fn me(&self, ctx: &Context<'_>) -> Result<Me> {
        let caller = caller(ctx)?;
        caller.require(Operation::ReadMe).gql()?;
        Ok(Me::from(caller))
    }

    /// The caller's account and its settings.
    #[graphql(complexity = 50)]
    async fn account(&self, ctx: &Context<'_>) -> Result<Account> {
        let caller = caller(ctx)?;
        let settings = use_cases(ctx)?.accounts.settings(caller).await.gql()?;
        Ok(Account {
            id: ID(caller.account_id.to_string()),
            time_zone: settings.time_zone.as_str().to_owned(),
        })
    }

    /// The account's Odoo connections, oldest first. Admins only.
    #[graphql(complexity = 200)]
    async fn connections(&self, ctx: &Context<'_>) -> Result<Vec<Connection>> {
        let views = use_cases(ctx)?.connections.list(caller(ctx)?).await.gql()?;
        Ok(views.into_iter().map(Connection::from).collect())
    }

    /// One sync run of the account: its status, counts and error.
    #[graphql(complexity = 50)]
    async fn sync_run(&self, ctx: &Context<'_>, id: ID) -> Result<SyncRunGql> {
        let caller = caller(ctx)?;
        caller.require(Operation::ReadSyncRuns).gql()?;
        let id = run_id(&id)?;
        let run = use_cases(ctx)?.syncs.get(caller, id).await.gql()?;
        Ok(run.into())
    }

    /// One Odoo connection of the account. Admins only.
    #[graphql(complexity = 50)]
    async fn connection(&self, ctx: &Context<'_>, id: ID) -> Result<Connection> {
        let caller = caller(ctx)?;
        caller.require(Operation::ReadConnections).gql()?;
        let id = connection_id(&id)?;
        let view = use_cases(ctx)?.connections.get(caller, id).await.gql()?;
        Ok(view.into())
    }
}

/// A sync run id; text that is not one names nothing.
pub(super) fn run_id(id: &ID) -> Result<SyncRunId> {
    SyncRunId::parse(id.as_str())
        .ok_or(AppError::NotFound)
        .gql()
}

/// The verified caller of this request.
pub(super) fn caller<'a>(ctx: &Context<'a>) -> Result<&'a Caller> {
    if ctx
        .data_opt::<TokenExpiry>()
        .is_some_and(TokenExpiry::has_passed)
    {
        return Err(token_expired());
    }
    ctx.data::<Caller>()
        .map_err(|_| AppError::internal(anyhow::anyhow!("request without a caller")))
        .gql()
}

/// The use cases shared by every request.
pub(super) fn use_cases<'a>(ctx: &Context<'a>) -> Result<&'a UseCases> {
    ctx.data::<UseCases>()
        .map_err(|_| AppError::internal(anyhow::anyhow!("schema without use cases")))
        .gql()
}

/// A connection id; text that is not one names nothing.
pub(super) fn connection_id(id: &ID) -> Result<ConnectionId> {
    ConnectionId::parse(id.as_str())
        .ok_or(AppError::NotFound)
        .gql()
}
