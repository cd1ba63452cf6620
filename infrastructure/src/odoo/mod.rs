//! The Odoo side of the application's ports, on the read-only client in `odoo/`: the staged
//! connection test, the order feed a sync reads, the import scope of a connection, and the
//! syntax check of user filters.

mod feed;
mod filters;
pub mod orders;
mod probe;
mod scope;

pub use feed::OdooOrderFeeds;
pub use filters::OdooFilterSyntax;
pub use probe::OdooProber;
pub use scope::{import_scope, order_date_bounds};

/// The client's protocol choice for a connection's setting.
fn protocol(protocol: domain::connection::Protocol) -> odoo_client::Protocol {
    use domain::connection::Protocol;
    match protocol {
        Protocol::Auto => odoo_client::Protocol::Auto,
        Protocol::Json2 => odoo_client::Protocol::Json2,
        Protocol::Jsonrpc => odoo_client::Protocol::JsonRpc,
        Protocol::Xmlrpc => odoo_client::Protocol::XmlRpc,
    }
}
