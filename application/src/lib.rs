//! The use cases of External Sync: who may do what, and the steps of each command and query,
//! written against ports that infrastructure implements. No SQL, HTTP or cryptography here.
//!
//! - [`access`]: callers, roles and the operations each role includes.
//! - [`ports`]: what the use cases need from the outside (event store, vault, directory).
//! - [`connections`]: adding, changing, listing and deleting Odoo connections.
//! - [`accounts`]: reading and changing account settings.
//! - [`credentials`]: resealing stored API keys under the current master key.
//! - [`mapping`]: items, mapping Odoo products to them, and the products still unmapped.
//! - [`sync`]: Sync Now and the run that imports a connection's orders page by page.
//! - [`error`]: the errors every use case answers with.

pub mod access;
pub mod accounts;
pub mod connections;
pub mod credentials;
pub mod error;
pub mod mapping;
pub mod ports;
pub mod sync;

pub use error::AppError;
