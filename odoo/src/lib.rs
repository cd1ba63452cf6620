//! Read-only Odoo client for PrepStation External Sync: the infrastructure adapter behind
//! the application's Odoo port. It speaks JSON-2 (Odoo 19+), JSON-RPC and XML-RPC behind one
//! interface, classifies every failure into one [`ErrorKind`] and can only ever send the read
//! methods of [`methods::Method`]. It never writes to the customer's Odoo.
//!
//! Layout:
//! - [`client`]: [`OdooServer::connect`] (URL checks, protocol and version detection) and the
//!   read-only [`OdooSession`];
//! - [`domain`], [`fields`]: user filters (parse, print, check against `fields_get`);
//! - [`record`], [`models`]: typed decoding of records (orders, lines, products, units, user);
//! - [`version`]: every difference between Odoo versions, in one place;
//! - [`codec`], [`answer`], [`classify`]: wire formats and error classification;
//! - [`network`], [`retry`]: address policy and retries of transient failures.

pub mod answer;
pub mod classify;
pub mod client;
pub mod codec;
pub mod domain;
pub mod error;
pub mod fields;
pub mod methods;
pub mod models;
pub mod network;
pub mod protocol;
pub mod record;
pub mod retry;
mod transport;
pub mod value;
pub mod version;

pub use client::{ClientOptions, OdooServer, OdooSession, SearchRead};
pub use domain::{Condition, Domain, DomainError, DomainValue, Operator, Term};
pub use error::{ErrorKind, OdooError};
pub use fields::{FieldCatalog, FieldInfo};
pub use methods::Method;
pub use network::NetworkPolicy;
pub use protocol::{Protocol, WireProtocol};
pub use retry::RetryPolicy;
pub use transport::Timeouts;
pub use value::Value;
pub use version::OdooVersion;
