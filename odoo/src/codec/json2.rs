//! JSON-2 (Odoo 19+): `POST /json/2/<model>/<method>` with one object of named arguments;
//! the answer is the bare returned value, errors a JSON object with an HTTP status.

use std::collections::BTreeMap;

use super::{DecodeError, RpcError};
use crate::value::Value;

/// Writes the body: the named arguments as one JSON object.
pub fn encode_body(arguments: &BTreeMap<String, Value>) -> String {
    let members: serde_json::Map<String, serde_json::Value> = arguments
        .iter()
        .map(|(name, value)| (name.clone(), serde_json::Value::from(value)))
        .collect();
    serde_json::Value::Object(members).to_string()
}

/// Decodes a successful (2xx, JSON) answer.
pub fn decode_result(body: &[u8]) -> Result<Value, DecodeError> {
    serde_json::from_slice::<serde_json::Value>(body)
        .map(Value::from)
        .map_err(|e| DecodeError::new(format!("json: {e}")))
}

/// Decodes an error answer `{"name", "message", ...}`; `None` if the body is not one.
pub fn decode_error(body: &[u8]) -> Option<RpcError> {
    let json: serde_json::Value = serde_json::from_slice(body).ok()?;
    let name = json.get("name")?.as_str()?.to_owned();
    let message = json
        .get("message")
        .and_then(serde_json::Value::as_str)
        .unwrap_or_default();
    Some(RpcError {
        code: None,
        name: Some(name),
        message: message.to_owned(),
    })
}
