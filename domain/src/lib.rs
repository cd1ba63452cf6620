//! The domain of External Sync: accounts and Odoo connections as event-sourced aggregates,
//! with the rules that decide which events a command produces. Pure data and decisions:
//! nothing here touches a database, the network, a clock or a key.
//!
//! - [`account`]: an account's settings, such as its time zone.
//! - [`connection`]: an Odoo connection, its validated settings, schedule and test results.
//! - [`ids`]: identifiers shared by every aggregate.
//! - [`mapping`]: PrepStation items and the mapping of Odoo products to them.
//! - [`metadata`]: who caused an event, for which account, and when.
//! - [`sales_order`]: imported orders, their fingerprints, and what a sync records of each.
//! - [`sync_run`]: the lifecycle of one sync run and its counts.
//! - [`secret`]: the sealed (encrypted) form in which credentials travel through events.
//! - [`validation`]: field-level errors for input that breaks a rule.

pub mod account;
pub mod connection;
pub mod ids;
pub mod mapping;
pub mod metadata;
pub mod sales_order;
pub mod secret;
pub mod sync_run;
pub mod validation;
