//! XML-RPC as Odoo speaks it on `/xmlrpc/2/*`: a small writer for `methodCall` and a decoder
//! for `methodResponse`.
//!
//! Integers are read as 64 bits whatever the tag (`int`, `i4`, `i8`); `dateTime.iso8601` and
//! `base64` stay strings (Odoo sends datetimes as plain strings anyway). Parsing uses
//! `roxmltree`, which refuses DTDs, so entity expansion attacks do not apply; nesting deeper
//! than [`MAX_DEPTH`] is refused.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use roxmltree::{Document, Node};

use super::{DecodeError, Fault, RpcOutcome};
use crate::value::Value;

/// Deepest nesting of arrays and structs accepted in an answer.
pub const MAX_DEPTH: usize = 64;

/// Writes a `methodCall` document.
pub fn encode_call(method: &str, params: &[Value]) -> String {
    let mut out = String::from("<?xml version=\"1.0\"?>\n<methodCall>\n<methodName>");
    escape_into(&mut out, method);
    out.push_str("</methodName>\n<params>\n");
    for param in params {
        out.push_str("<param>\n");
        write_value(&mut out, param);
        out.push_str("\n</param>\n");
    }
    out.push_str("</params>\n</methodCall>\n");
    out
}

/// Writes a `methodResponse` holding `value`, as a server would (for tests and fuzz seeds).
pub fn encode_response(value: &Value) -> String {
    let mut out = String::from("<?xml version=\"1.0\"?>\n<methodResponse>\n<params>\n<param>\n");
    write_value(&mut out, value);
    out.push_str("\n</param>\n</params>\n</methodResponse>\n");
    out
}

fn write_value(out: &mut String, value: &Value) {
    out.push_str("<value>");
    match value {
        Value::Nil => out.push_str("<nil/>"),
        Value::Bool(flag) => push_tagged(out, "boolean", if *flag { "1" } else { "0" }),
        Value::Int(number) => write_int(out, *number),
        Value::Float(number) => push_tagged(out, "double", &format!("{number:?}")),
        Value::String(text) => {
            out.push_str("<string>");
            escape_into(out, text);
            out.push_str("</string>");
        }
        Value::Array(items) => write_array(out, items),
        Value::Struct(members) => write_struct(out, members),
    }
    out.push_str("</value>");
}

fn write_int(out: &mut String, number: i64) {
    let tag = if i32::try_from(number).is_ok() {
        "int"
    } else {
        "i8"
    };
    push_tagged(out, tag, &number.to_string());
}

fn write_array(out: &mut String, items: &[Value]) {
    out.push_str("<array><data>\n");
    for item in items {
        write_value(out, item);
        out.push('\n');
    }
    out.push_str("</data></array>");
}

fn write_struct(out: &mut String, members: &BTreeMap<String, Value>) {
    out.push_str("<struct>\n");
    for (name, value) in members {
        out.push_str("<member>\n<name>");
        escape_into(out, name);
        out.push_str("</name>\n");
        write_value(out, value);
        out.push_str("\n</member>\n");
    }
    out.push_str("</struct>");
}

fn push_tagged(out: &mut String, tag: &str, text: &str) {
    let _ = write!(out, "<{tag}>{text}</{tag}>");
}

fn escape_into(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\r' => out.push_str("&#13;"),
            c => out.push(c),
        }
    }
}

/// Decodes a `methodResponse`: the single result value, or the fault.
pub fn decode_response(body: &str) -> Result<RpcOutcome, DecodeError> {
    let document = Document::parse(body).map_err(|e| DecodeError::new(format!("xml: {e}")))?;
    let root = document.root_element();
    if root.tag_name().name() != "methodResponse" {
        return Err(DecodeError::new("xml: not a methodResponse"));
    }

    match first_element(root) {
        Some(node) if node.has_tag_name("params") => decode_params(node).map(RpcOutcome::Result),
        Some(node) if node.has_tag_name("fault") => decode_fault(node).map(RpcOutcome::Fault),
        _ => Err(DecodeError::new(
            "xml: methodResponse without params or fault",
        )),
    }
}

/// Decodes a `methodCall`: the method name and its parameters (for tests and tools that
/// check what the client sends).
pub fn decode_call(body: &str) -> Result<(String, Vec<Value>), DecodeError> {
    let document = Document::parse(body).map_err(|e| DecodeError::new(format!("xml: {e}")))?;
    let root = document.root_element();
    if !root.has_tag_name("methodCall") {
        return Err(DecodeError::new("xml: not a methodCall"));
    }
    let method = text_of(child(root, "methodName")?);
    let params = match elements(root).find(|n| n.has_tag_name("params")) {
        Some(params) => elements(params)
            .map(|param| decode_value(child(param, "value")?, 0))
            .collect::<Result<_, _>>()?,
        None => Vec::new(),
    };
    Ok((method, params))
}

fn decode_params(params: Node) -> Result<Value, DecodeError> {
    let param = first_element(params).ok_or_else(|| DecodeError::new("xml: no param"))?;
    let value = child(param, "value")?;
    decode_value(value, 0)
}

fn decode_fault(fault: Node) -> Result<Fault, DecodeError> {
    let value = decode_value(child(fault, "value")?, 0)?;
    let members = value
        .as_struct()
        .ok_or_else(|| DecodeError::new("xml: fault is no struct"))?;
    let code = members.get("faultCode").and_then(Value::as_i64);
    let message = members.get("faultString").and_then(Value::as_str);

    match (code, message) {
        (Some(code), Some(message)) => Ok(Fault {
            code,
            message: message.to_owned(),
        }),
        _ => Err(DecodeError::new(
            "xml: fault without integer faultCode and faultString",
        )),
    }
}

fn decode_value(value: Node, depth: usize) -> Result<Value, DecodeError> {
    if depth > MAX_DEPTH {
        return Err(DecodeError::new("xml: nested too deeply"));
    }
    let Some(typed) = first_element(value) else {
        return Ok(Value::String(text_of(value)));
    };
    let text = || text_of(typed);

    match typed.tag_name().name() {
        "int" | "i4" | "i8" => parse_int(&text()).map(Value::Int),
        "boolean" => parse_bool(&text()).map(Value::Bool),
        "double" => parse_double(&text()).map(Value::Float),
        "string" | "dateTime.iso8601" | "base64" => Ok(Value::String(text())),
        "nil" => Ok(Value::Nil),
        "array" => decode_array(typed, depth).map(Value::Array),
        "struct" => decode_struct(typed, depth).map(Value::Struct),
        other => Err(DecodeError::new(format!("xml: unknown value type {other}"))),
    }
}

fn decode_array(array: Node, depth: usize) -> Result<Vec<Value>, DecodeError> {
    let data = child(array, "data")?;
    elements(data)
        .map(|item| match item.has_tag_name("value") {
            true => decode_value(item, depth + 1),
            false => Err(DecodeError::new("xml: array item is not a value")),
        })
        .collect()
}

fn decode_struct(node: Node, depth: usize) -> Result<BTreeMap<String, Value>, DecodeError> {
    elements(node)
        .map(|member| {
            let name = text_of(child(member, "name")?);
            let value = decode_value(child(member, "value")?, depth + 1)?;
            Ok((name, value))
        })
        .collect()
}

fn parse_int(text: &str) -> Result<i64, DecodeError> {
    text.trim()
        .parse()
        .map_err(|_| DecodeError::new("xml: invalid integer"))
}

fn parse_bool(text: &str) -> Result<bool, DecodeError> {
    match text.trim() {
        "1" => Ok(true),
        "0" => Ok(false),
        _ => Err(DecodeError::new("xml: invalid boolean")),
    }
}

fn parse_double(text: &str) -> Result<f64, DecodeError> {
    text.trim()
        .parse()
        .map_err(|_| DecodeError::new("xml: invalid double"))
}

fn elements<'a, 'input>(node: Node<'a, 'input>) -> impl Iterator<Item = Node<'a, 'input>> {
    node.children().filter(Node::is_element)
}

fn first_element<'a, 'input>(node: Node<'a, 'input>) -> Option<Node<'a, 'input>> {
    elements(node).next()
}

fn child<'a, 'input>(node: Node<'a, 'input>, tag: &str) -> Result<Node<'a, 'input>, DecodeError> {
    elements(node)
        .find(|n| n.has_tag_name(tag))
        .ok_or_else(|| DecodeError::new(format!("xml: missing <{tag}>")))
}

fn text_of(node: Node) -> String {
    node.children()
        .filter(Node::is_text)
        .filter_map(|n| n.text())
        .collect()
}
