//! Read operations.

use application::access::{Caller, Operation};
use async_graphql::{Context, Object, Result, ID};
use domain::ids::ConnectionId;

use super::errors::{invalid, token_expired, GqlResult};
use super::types::{Account, Connection, Me, SyncRunGql, SyncRunStatus, TotalCount};
use super::UseCases;
use crate::auth::TokenExpiry;
use application::AppError;
use async_graphql::connection::{Connection as Page, Edge, EmptyFields};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use domain::sync_run::SyncRunId;

/// Queries on the account, its connections and their sync runs.
#[derive(Debug, Default)]
pub struct ConnectionQuery;

#[Object]
impl ConnectionQuery {
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

    /// The sync runs of a connection, newest first, as a Relay connection with `totalCount`.
    /// `first` is at most 500 (default 20); `after` is an `endCursor` of an earlier page.
    #[graphql(complexity = 200)]
    async fn sync_runs(
        &self,
        ctx: &Context<'_>,
        connection_id: ID,
        status: Option<SyncRunStatus>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Page<String, SyncRunGql, TotalCount, EmptyFields>> {
        let caller = caller(ctx)?;
        caller.require(Operation::ReadSyncRuns).gql()?;
        let first = page_size(first)?;
        let after = after.as_deref().map(decode_run_cursor).transpose()?;
        let id = self::connection_id(&connection_id)?;

        let syncs = &use_cases(ctx)?.syncs;
        let (runs, total) = syncs
            .list(caller, id, status.map(Into::into), after, first + 1)
            .await
            .gql()?;
        let has_next = runs.len() > usize::from(first);
        let mut page = Page::with_additional_fields(
            after.is_some(),
            has_next,
            TotalCount { total_count: total },
        );
        for run in runs.into_iter().take(usize::from(first)) {
            page.edges
                .push(Edge::new(encode_run_cursor(&run), run.into()));
        }
        Ok(page)
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

/// A page size: 1 to [`super::MAX_PAGE`], 20 when not given.
pub(super) fn page_size(first: Option<i32>) -> Result<u16> {
    match first.unwrap_or(20) {
        n @ 1..=super::MAX_PAGE => Ok(u16::try_from(n).unwrap_or(20)),
        _ => Err(invalid(
            "first",
            format!("must be between 1 and {}", super::MAX_PAGE),
        )),
    }
}

fn encode_run_cursor(run: &domain::sync_run::SyncRun) -> String {
    let at = run
        .requested_at
        .map(|at| at.to_rfc3339())
        .unwrap_or_default();
    let id = run.id.map(|id| id.to_string()).unwrap_or_default();
    URL_SAFE_NO_PAD.encode(format!("{at}|{id}"))
}

fn decode_run_cursor(cursor: &str) -> Result<(chrono::DateTime<chrono::Utc>, SyncRunId)> {
    let bad = || {
        invalid(
            "after",
            "is not a cursor of this list; use an endCursor it returned",
        )
    };
    let text = URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(bad)?;
    let (at, id) = text.split_once('|').ok_or_else(bad)?;
    let at = chrono::DateTime::parse_from_rfc3339(at)
        .map_err(|_| bad())?
        .with_timezone(&chrono::Utc);
    Ok((at, SyncRunId::parse(id).ok_or_else(bad)?))
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
