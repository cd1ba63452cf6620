//! JSON-RPC 2.0 as Odoo speaks it on `/jsonrpc`: `{"method": "call", "params": {"service",
//! "method", "args"}}`.

use serde_json::json;

use super::{DecodeError, RpcError, RpcOutcome};
use crate::value::Value;

/// Writes the request envelope for `service.method(args)`.
pub fn encode_call(id: u64, service: &str, method: &str, args: &[Value]) -> String {
    let args: Vec<serde_json::Value> = args.iter().map(serde_json::Value::from).collect();
    json!({
        "jsonrpc": "2.0",
        "method": "call",
        "params": {"service": service, "method": method, "args": args},
        "id": id,
    })
    .to_string()
}

/// Decodes an answer: `result`, `error`, or neither (a method that returned `None`).
pub fn decode_response(body: &[u8]) -> Result<RpcOutcome, DecodeError> {
    let json: serde_json::Value =
        serde_json::from_slice(body).map_err(|e| DecodeError::new(format!("json: {e}")))?;
    let serde_json::Value::Object(mut members) = json else {
        return Err(DecodeError::new("json-rpc: answer is not an object"));
    };
    if members.get("jsonrpc").and_then(serde_json::Value::as_str) != Some("2.0") {
        return Err(DecodeError::new("json-rpc: no jsonrpc 2.0 member"));
    }

    if let Some(error) = members.remove("error") {
        return Ok(RpcOutcome::Error(decode_error(&error)));
    }
    let result = members.remove("result").map_or(Value::Nil, Value::from);
    Ok(RpcOutcome::Result(result))
}

fn decode_error(error: &serde_json::Value) -> RpcError {
    let data = error.get("data");
    let text = |value: Option<&serde_json::Value>| {
        value.and_then(serde_json::Value::as_str).map(str::to_owned)
    };
    let message = text(data.and_then(|d| d.get("message")))
        .or_else(|| text(error.get("message")))
        .unwrap_or_default();

    RpcError {
        code: error.get("code").and_then(serde_json::Value::as_i64),
        name: text(data.and_then(|d| d.get("name"))),
        message,
    }
}
