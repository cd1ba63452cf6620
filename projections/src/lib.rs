//! Read models built from the event log. Each projection reads `infrastructure::event_log` in
//! the global order from its own checkpoint (`projection_checkpoints`) and writes its rows and
//! its checkpoint in one transaction that holds the checkpoint row's lock: replicas running
//! the same projection take turns, no event is applied twice and none is skipped (the log
//! only hands out events of settled transactions).
//!
//! - [`runtime`]: the runner loop, one batch step, lag and replay from zero.
//! - [`sales_records`]: Sales Records and their lines from the order streams, with delivery
//!   days in the account's time zone.
//! - [`planning_demand`]: production-planning demand, SQL views over the Sales Records tables
//!   and the product mapping (a [`View`]: no checkpoint of its own), and how it is read.
//!
//! Sync history is not a projection yet (TODO(#5)).

pub mod planning_demand;
pub mod runtime;
pub mod sales_records;

pub use runtime::{
    all, by_name, replay, spawn_runners, status, step, views, Projection, ProjectionError,
    ProjectionStatus, RunnerSettings, View,
};
pub use sales_records::SalesRecords;
