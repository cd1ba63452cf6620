//! Write operations.

use application::access::Operation;
use application::connections::{ConnectionChanges, NewConnection};
use async_graphql::{Context, MaybeUndefined, Object, Result, ID};
use secrecy::SecretString;

use super::errors::{invalid, GqlResult};
use super::query::{caller, connection_id, connection_id as connection_id_of, use_cases};
use super::types::{
    Account, AccountSettingsInput, Connection, ConnectionTest, CreateConnectionInput, SyncRunGql,
    UpdateConnectionInput,
};

/// Mutations of the account, its connections and their sync runs.
#[derive(Debug, Default)]
pub struct ConnectionMutation;

#[Object]
impl ConnectionMutation {
    /// Changes the caller's account settings. Admins only.
    #[graphql(complexity = 100)]
    async fn update_account_settings(
        &self,
        ctx: &Context<'_>,
        input: AccountSettingsInput,
    ) -> Result<Account> {
        let caller = caller(ctx)?;
        let settings = use_cases(ctx)?
            .accounts
            .update_settings(caller, &input.time_zone)
            .await
            .gql()?;
        Ok(Account {
            id: ID(caller.account_id.to_string()),
            time_zone: settings.time_zone.as_str().to_owned(),
        })
    }

    /// Adds an Odoo connection. Admins only. The API key is sealed and never shown again.
    #[graphql(complexity = 100)]
    async fn create_connection(
        &self,
        ctx: &Context<'_>,
        input: CreateConnectionInput,
    ) -> Result<Connection> {
        let caller = caller(ctx)?;
        let new = new_connection(input);
        let view = use_cases(ctx)?
            .connections
            .create(caller, new)
            .await
            .gql()?;
        Ok(view.into())
    }

    /// Tests a saved connection against its Odoo server and records the result. Admins only;
    /// limited per account and minute.
    #[graphql(complexity = 400)]
    async fn test_connection(&self, ctx: &Context<'_>, id: ID) -> Result<ConnectionTest> {
        let caller = caller(ctx)?;
        caller.require(Operation::ManageConnections).gql()?;
        let id = connection_id(&id)?;
        let result = use_cases(ctx)?.connections.test(caller, id).await.gql()?;
        Ok(result.into())
    }

    /// Tests connection settings before saving them; nothing is stored. Admins only; limited
    /// per account and minute.
    #[graphql(complexity = 400)]
    async fn test_connection_settings(
        &self,
        ctx: &Context<'_>,
        input: CreateConnectionInput,
    ) -> Result<ConnectionTest> {
        let caller = caller(ctx)?;
        let new = new_connection(input);
        let result = use_cases(ctx)?
            .connections
            .test_settings(caller, new)
            .await
            .gql()?;
        Ok(result.into())
    }

    /// Changes an Odoo connection; omitted fields stay, `null` clears an optional one.
    #[graphql(complexity = 100)]
    async fn update_connection(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: UpdateConnectionInput,
    ) -> Result<Connection> {
        let caller = caller(ctx)?;
        caller
            .require(application::access::Operation::ManageConnections)
            .gql()?;
        let id = connection_id(&id)?;
        let changes = changes(input)?;
        let view = use_cases(ctx)?
            .connections
            .update(caller, id, changes)
            .await
            .gql()?;
        Ok(view.into())
    }

    /// Starts syncing a connection now ("Sync Now") and returns the run; when the connection
    /// already has a run pending or running, returns that run. Admins only.
    #[graphql(complexity = 100)]
    async fn sync_now(&self, ctx: &Context<'_>, connection_id: ID) -> Result<SyncRunGql> {
        let caller = caller(ctx)?;
        caller.require(Operation::RunSyncs).gql()?;
        let id = connection_id_of(&connection_id)?;
        let syncs = &use_cases(ctx)?.syncs;
        let run_id = syncs.sync_now(caller, id).await.gql()?;
        let run = syncs.get(caller, run_id).await.gql()?;
        Ok(run.into())
    }

    /// Starts a full re-sync of a connection: the whole scope is read again and the held
    /// orders are checked against Odoo for deletions. Admins only.
    #[graphql(complexity = 100)]
    async fn full_resync(&self, ctx: &Context<'_>, connection_id: ID) -> Result<SyncRunGql> {
        let caller = caller(ctx)?;
        caller.require(Operation::RunSyncs).gql()?;
        let id = connection_id_of(&connection_id)?;
        let syncs = &use_cases(ctx)?.syncs;
        let run_id = syncs.full_resync(caller, id).await.gql()?;
        Ok(syncs.get(caller, run_id).await.gql()?.into())
    }

    /// Stops a sync run after its current batch (at once if it has not started); it ends
    /// `FAILED` with the code `CANCELLED_BY_USER`, keeping every batch it committed. Admins only.
    #[graphql(complexity = 100)]
    async fn cancel_sync_run(&self, ctx: &Context<'_>, id: ID) -> Result<SyncRunGql> {
        let caller = caller(ctx)?;
        caller.require(Operation::RunSyncs).gql()?;
        let id = super::query::run_id(&id)?;
        Ok(use_cases(ctx)?.syncs.cancel(caller, id).await.gql()?.into())
    }

    /// Deletes an Odoo connection; what it synced stays. A run in progress is cancelled: it
    /// stops after its current batch instead of syncing on for a deleted connection. Admins
    /// only.
    #[graphql(complexity = 100)]
    async fn delete_connection(&self, ctx: &Context<'_>, id: ID) -> Result<bool> {
        let caller = caller(ctx)?;
        caller
            .require(application::access::Operation::ManageConnections)
            .gql()?;
        let id = connection_id(&id)?;
        let use_cases = use_cases(ctx)?;
        let unfinished = unfinished_run(use_cases, caller, id).await?;

        use_cases.connections.delete(caller, id).await.gql()?;

        if let Some(run) = unfinished {
            if let Err(error) = use_cases.syncs.cancel(caller, run).await {
                tracing::debug!(run = %run, error = %error, "run of a deleted connection ended first");
            }
        }
        Ok(true)
    }
}

/// The connection's pending or running run, if it has one (it is always its newest).
async fn unfinished_run(
    use_cases: &super::UseCases,
    caller: &application::access::Caller,
    id: domain::ids::ConnectionId,
) -> Result<Option<domain::sync_run::SyncRunId>> {
    let (runs, _) = use_cases
        .syncs
        .list(caller, id, None, None, 1)
        .await
        .gql()?;
    Ok(runs
        .into_iter()
        .next()
        .filter(|run| !run.status.is_finished())
        .and_then(|run| run.id))
}

fn new_connection(input: CreateConnectionInput) -> NewConnection {
    NewConnection {
        name: input.name,
        url: input.url,
        database: input.database,
        username: input.username,
        api_key: SecretString::from(input.api_key),
        protocol: input.protocol.map(Into::into),
        sync_mode: input.sync_mode.map(Into::into),
        interval_seconds: input.interval_seconds,
        batch_size: input.batch_size,
        active: input.active,
        domain_filter: input.domain_filter,
        order_date_from: input.order_date_from,
        order_date_to: input.order_date_to,
    }
}

fn changes(input: UpdateConnectionInput) -> Result<ConnectionChanges> {
    Ok(ConnectionChanges {
        name: required("name", input.name)?,
        url: required("url", input.url)?,
        database: required("database", input.database)?,
        username: required("username", input.username)?,
        api_key: required("apiKey", input.api_key)?.map(SecretString::from),
        protocol: required("protocol", input.protocol)?.map(Into::into),
        sync_mode: required("syncMode", input.sync_mode)?.map(Into::into),
        interval_seconds: required("intervalSeconds", input.interval_seconds)?,
        batch_size: required("batchSize", input.batch_size)?,
        active: required("active", input.active)?,
        domain_filter: optional(input.domain_filter),
        order_date_from: optional(input.order_date_from),
        order_date_to: optional(input.order_date_to),
    })
}

/// A field that may be omitted but not cleared.
fn required<T>(field: &'static str, value: MaybeUndefined<T>) -> Result<Option<T>> {
    match value {
        MaybeUndefined::Undefined => Ok(None),
        MaybeUndefined::Null => Err(invalid(
            field,
            "cannot be cleared; omit it to keep the current value",
        )),
        MaybeUndefined::Value(value) => Ok(Some(value)),
    }
}

/// A field that may be omitted (kept) or `null` (cleared).
fn optional<T>(value: MaybeUndefined<T>) -> Option<Option<T>> {
    match value {
        MaybeUndefined::Undefined => None,
        MaybeUndefined::Null => Some(None),
        MaybeUndefined::Value(value) => Some(Some(value)),
    }
}
