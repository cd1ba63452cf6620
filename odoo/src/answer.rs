//! Interprets one HTTP answer of a protocol as a value or a classified error.
//!
//! Pure functions over the recorded shape of an answer, so the decoding and classification
//! of real Odoo answers can be tested without a network.

use crate::classify::{self, HttpFailure};
use crate::codec::{json2, jsonrpc, xmlrpc, RpcOutcome};
use crate::error::OdooError;
use crate::protocol::WireProtocol;
use crate::value::Value;

/// An HTTP answer: status, the headers that matter, and the body.
#[derive(Debug, Clone, Default)]
pub struct HttpAnswer {
    /// The status code.
    pub status: u16,
    /// `Content-Type`.
    pub content_type: Option<String>,
    /// `Retry-After`.
    pub retry_after: Option<String>,
    /// `Location`.
    pub location: Option<String>,
    /// The body.
    pub body: Vec<u8>,
}

impl HttpAnswer {
    fn failure(&self, json2: bool) -> HttpFailure<'_> {
        HttpFailure {
            status: self.status,
            content_type: self.content_type.as_deref(),
            retry_after: self.retry_after.as_deref(),
            location: self.location.as_deref(),
            body: &self.body,
            json2,
        }
    }

    fn has_content_type(&self, needle: &str) -> bool {
        self.content_type
            .as_deref()
            .is_some_and(|t| t.to_ascii_lowercase().contains(needle))
    }
}

/// The value the call returned, or the classified error.
pub fn interpret(protocol: WireProtocol, answer: &HttpAnswer) -> Result<Value, OdooError> {
    match protocol {
        WireProtocol::Json2 => interpret_json2(answer),
        WireProtocol::JsonRpc => interpret_legacy(answer, "json", decode_jsonrpc),
        WireProtocol::XmlRpc => interpret_legacy(answer, "xml", decode_xmlrpc),
    }
}

/// A plain JSON answer of a route not known to exist (e.g. `GET /web/version` before the
/// version is known): anything but 2xx JSON is an unexpected answer or a classified error.
pub fn interpret_json(answer: &HttpAnswer) -> Result<Value, OdooError> {
    json_answer(answer, false)
}

fn interpret_json2(answer: &HttpAnswer) -> Result<Value, OdooError> {
    json_answer(answer, true)
}

fn json_answer(answer: &HttpAnswer, json2: bool) -> Result<Value, OdooError> {
    let success = (200..300).contains(&answer.status) && answer.has_content_type("json");
    if !success {
        return Err(classify::http(&answer.failure(json2)));
    }
    json2::decode_result(&answer.body).map_err(classify::malformed)
}

fn interpret_legacy(
    answer: &HttpAnswer,
    content: &str,
    decode: fn(&[u8]) -> Result<RpcOutcome, OdooError>,
) -> Result<Value, OdooError> {
    let success = answer.status == 200 && answer.has_content_type(content);
    if !success {
        return Err(classify::http(&answer.failure(false)));
    }

    match decode(&answer.body)? {
        RpcOutcome::Result(value) => Ok(value),
        RpcOutcome::Fault(fault) => Err(classify::fault(&fault)),
        RpcOutcome::Error(error) => Err(classify::rpc_error(&error)),
    }
}

fn decode_jsonrpc(body: &[u8]) -> Result<RpcOutcome, OdooError> {
    jsonrpc::decode_response(body).map_err(classify::malformed)
}

fn decode_xmlrpc(body: &[u8]) -> Result<RpcOutcome, OdooError> {
    let text = std::str::from_utf8(body).map_err(classify::malformed)?;
    xmlrpc::decode_response(text).map_err(classify::malformed)
}
