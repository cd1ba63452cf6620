//! Read-only Odoo client for PrepStation External Sync.
//!
//! Speaks JSON-2 (Odoo 19+), JSON-RPC and XML-RPC behind one interface, classifies every
//! failure into a fixed set of [`ErrorKind`]s and can only ever send the read methods listed
//! in [`methods`]. It never writes to the customer's Odoo.

pub mod answer;
pub mod classify;
pub mod codec;
pub mod domain;
pub mod error;
pub mod fields;
pub mod methods;
pub mod models;
pub mod protocol;
pub mod record;
pub mod value;
pub mod version;

pub use domain::{Condition, Domain, DomainError, DomainValue, Operator, Term};
pub use error::{ErrorKind, OdooError};
pub use fields::{FieldCatalog, FieldInfo};
pub use value::Value;
