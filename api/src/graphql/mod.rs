//! The GraphQL schema: queries, mutations, their types, and the error codes clients see.

mod errors;
mod mapping;
mod mutation;
mod planning;
mod query;
mod read_models;
mod schedule;
mod subscription;
mod types;

use application::accounts::Accounts;
use application::connections::Connections;
use async_graphql::{MergedObject, Schema};

pub use errors::{codes, error_body, ErrorCode, GqlResult};
pub use read_models::ReadModels;
pub use subscription::SubscriptionRoot;

/// The query root: each part of the service contributes its own object.
#[derive(Debug, Default, MergedObject)]
pub struct QueryRoot(
    query::ConnectionQuery,
    mapping::MappingQuery,
    read_models::ReadModelQuery,
    planning::PlanningQuery,
);

/// The mutation root, built like the query root.
#[derive(Debug, Default, MergedObject)]
pub struct MutationRoot(
    mutation::ConnectionMutation,
    mapping::MappingMutation,
    schedule::ScheduleMutation,
);

/// The service's schema.
pub type PrepSchema = Schema<QueryRoot, MutationRoot, SubscriptionRoot>;

/// The deepest query accepted.
pub const MAX_DEPTH: usize = 12;
/// The most complex query accepted. Plain fields count one; fields that read the event store
/// or call Odoo count far more, so that aliases cannot multiply database work: at most 20
/// account or connection reads, 5 connection lists or 2 connection tests per request.
pub const MAX_COMPLEXITY: usize = 1_000;
/// The largest page a list argument `first` may ask for.
pub const MAX_PAGE: i32 = 500;

/// The use cases the resolvers call.
#[derive(Debug, Clone)]
pub struct UseCases {
    /// Connection settings.
    pub connections: Connections,
    /// Account settings.
    pub accounts: Accounts,
    /// Sync runs.
    pub syncs: application::sync::Syncs,
    /// Items and product mapping.
    pub mappings: application::mapping::Mappings,
    /// The schedule and health of connections.
    pub schedules: application::schedule::Scheduler,
    /// The projections' tables.
    pub read_models: ReadModels,
}

/// Builds the schema with its limits and the use cases as shared data.
pub fn schema(use_cases: UseCases) -> PrepSchema {
    Schema::build(
        QueryRoot::default(),
        MutationRoot::default(),
        SubscriptionRoot,
    )
    .data(use_cases)
    .limit_depth(MAX_DEPTH)
    .limit_complexity(MAX_COMPLEXITY)
    .finish()
}

/// The schema's SDL, as committed in `docs/schema.graphql`.
pub fn sdl() -> String {
    Schema::build(
        QueryRoot::default(),
        MutationRoot::default(),
        SubscriptionRoot,
    )
    .finish()
    .sdl()
}
