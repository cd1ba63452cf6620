//! Which protocol a connection speaks.

use std::fmt;

/// The protocol asked for in a connection's settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Protocol {
    /// JSON-2 on Odoo 19 and later, JSON-RPC before.
    #[default]
    Auto,
    /// JSON-2 only (Odoo 19+).
    Json2,
    /// JSON-RPC on `/jsonrpc`.
    JsonRpc,
    /// XML-RPC on `/xmlrpc/2/*`.
    XmlRpc,
}

/// The protocol a connection actually speaks once detected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WireProtocol {
    /// `POST /json/2/<model>/<method>` with a bearer API key.
    Json2,
    /// `POST /jsonrpc`.
    JsonRpc,
    /// `POST /xmlrpc/2/<service>`.
    XmlRpc,
}

impl WireProtocol {
    /// The GraphQL spelling: `JSON2`, `JSONRPC`, `XMLRPC`.
    pub fn code(self) -> &'static str {
        match self {
            WireProtocol::Json2 => "JSON2",
            WireProtocol::JsonRpc => "JSONRPC",
            WireProtocol::XmlRpc => "XMLRPC",
        }
    }
}

impl fmt::Display for WireProtocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}
