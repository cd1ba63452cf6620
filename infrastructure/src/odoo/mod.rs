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

/// Longest message kept from a server's error.
const MAX_MESSAGE_CHARS: usize = 300;

/// What a user is told of an Odoo failure: for failures to reach the server, a plain sentence
/// (the transport's own wording names library internals); otherwise what Odoo said, shortened.
fn user_message(error: &odoo_client::OdooError) -> String {
    use odoo_client::ErrorKind;
    match error.kind() {
        ErrorKind::Network => "the server could not be reached".to_owned(),
        ErrorKind::Timeout => "the server did not answer in time".to_owned(),
        ErrorKind::UrlNotAllowed => {
            "this deployment does not allow connections to that address".to_owned()
        }
        ErrorKind::InvalidUrl => "the URL cannot be used to reach a server".to_owned(),
        _ => bounded(error.detail(), MAX_MESSAGE_CHARS),
    }
}

/// At most `max` characters, control characters removed: servers choose these texts.
fn bounded(text: &str, max: usize) -> String {
    text.chars().filter(|c| !c.is_control()).take(max).collect()
}
