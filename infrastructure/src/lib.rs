//! The outside world behind the application's ports: the PostgreSQL event store (with its
//! global order), the connection registry, and the vault that seals credentials.
//! Nothing here decides business rules; it stores and retrieves what the domain decided.
//!
//! - [`database`]: pools and the embedded migrations.
//! - [`event_store`]: aggregates loaded from and committed to the `events` table.
//! - [`event_log`]: every event in the global order, gap-safe against late commits.
//! - [`directory`]: the registry of connections kept beside their events.
//! - [`key_checks`]: refusing a master key that differs from the one its id stood for.
//! - [`mapping_store`]: items and product mappings beside their events; run resolution.
//! - [`odoo`]: the staged connection test and import scope on the Odoo client.
//! - [`rate_limit`]: attempts per account and minute, shared by every replica.
//! - [`sync_store`]: the sync engine's transactional write path for batches and runs.
//! - [`vault`]: XChaCha20-Poly1305 sealing with rotating master keys.

pub mod database;
pub mod directory;
pub mod event_log;
pub mod event_store;
pub mod key_checks;
pub mod mapping_store;
pub mod odoo;
pub mod rate_limit;
pub mod sync_store;
pub mod vault;
