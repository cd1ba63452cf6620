//! Wire codecs of the three protocols, all decoding into [`Value`].
//!
//! The codecs only translate bytes; what an error means is decided in
//! [`crate::classify`].

pub mod json2;
pub mod jsonrpc;
pub mod xmlrpc;

use crate::value::Value;

/// What a legacy RPC call (XML-RPC or JSON-RPC) answered inside an HTTP 200.
#[derive(Debug, Clone, PartialEq)]
pub enum RpcOutcome {
    /// The method's result.
    Result(Value),
    /// An XML-RPC fault.
    Fault(Fault),
    /// A JSON-RPC error object.
    Error(RpcError),
}

/// An XML-RPC fault: `faultCode` and `faultString`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    /// 1 any other exception, 2 user error, 3 access denied, 4 access error.
    pub code: i64,
    /// The message; for code 1 the whole Python traceback.
    pub message: String,
}

/// A JSON-RPC `error` object, or a JSON-2 error body.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RpcError {
    /// JSON-RPC `error.code` (200 on Odoo 18 and older, 0 on 19); absent for JSON-2.
    pub code: Option<i64>,
    /// The exception type as `module.ClassName`, e.g. `odoo.exceptions.AccessDenied`.
    pub name: Option<String>,
    /// The exception's message.
    pub message: String,
}

/// A body that is not a well-formed answer of the expected protocol.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct DecodeError(String);

impl DecodeError {
    pub(crate) fn new(message: impl Into<String>) -> DecodeError {
        DecodeError(message.into())
    }
}
