//! Aggregates loaded from and committed to the `events` table through cqrs-es and
//! postgres-es. Snapshots are not used: cqrs-es 0.5.0 snapshots apply events twice.

use std::marker::PhantomData;

use anyhow::anyhow;
use application::ports::{AggregateStore, CommandError, StoreError};
use async_trait::async_trait;
use cqrs_es::persist::PersistedEventStore;
use cqrs_es::{Aggregate, AggregateContext, AggregateError, CqrsFramework, EventStore};
use domain::metadata::EventMetadata;
use postgres_es::PostgresEventRepository;
use sqlx::PgPool;

type Store<A> = PersistedEventStore<PostgresEventRepository, A>;

/// An [`AggregateStore`] on PostgreSQL.
pub struct PgAggregateStore<A: Aggregate<Services = ()>> {
    reader: Store<A>,
    framework: CqrsFramework<A, Store<A>>,
    aggregate: PhantomData<A>,
}

impl<A: Aggregate<Services = ()>> std::fmt::Debug for PgAggregateStore<A> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgAggregateStore")
            .field("aggregate", &A::TYPE)
            .finish()
    }
}

impl<A: Aggregate<Services = ()>> PgAggregateStore<A> {
    /// A store for aggregates of type `A` on this pool.
    pub fn new(pool: PgPool) -> Self {
        let reader =
            PersistedEventStore::new_event_store(PostgresEventRepository::new(pool.clone()));
        let writer = PersistedEventStore::new_event_store(PostgresEventRepository::new(pool));
        Self {
            reader,
            framework: CqrsFramework::new(writer, Vec::new(), ()),
            aggregate: PhantomData,
        }
    }
}

#[async_trait]
impl<A> AggregateStore<A> for PgAggregateStore<A>
where
    A: Aggregate<Services = ()> + 'static,
    A::Command: Send,
    A::Error: Send + Sync + 'static,
{
    async fn load(&self, id: &str) -> Result<A, StoreError> {
        let mut context = self.reader.load_aggregate(id).await.map_err(store_error)?;
        Ok(std::mem::take(context.aggregate()))
    }

    async fn execute(
        &self,
        id: &str,
        command: A::Command,
        metadata: &EventMetadata,
    ) -> Result<(), CommandError<A::Error>> {
        self.framework
            .execute_with_metadata(id, command, metadata.to_map())
            .await
            .map_err(|error| match error {
                AggregateError::UserError(rejection) => CommandError::Rejected(rejection),
                other => CommandError::Store(store_error(other)),
            })
    }
}

fn store_error<E: std::error::Error>(error: AggregateError<E>) -> StoreError {
    match error {
        AggregateError::AggregateConflict => StoreError::Conflict,
        AggregateError::DeserializationError(cause) => StoreError::Corrupt(anyhow!(cause)),
        AggregateError::DatabaseConnectionError(cause) | AggregateError::UnexpectedError(cause) => {
            StoreError::Unavailable(anyhow!(cause))
        }
        AggregateError::UserError(rejection) => {
            StoreError::Unavailable(anyhow!("command refused while loading: {rejection}"))
        }
    }
}
