//! A small XML-RPC codec: reads `<methodCall>`/`<methodResponse>` documents into JSON values and
//! writes responses the way Python's `xmlrpc.client` does.
//!
//! Values map as: `<int>`/`<i4>`/`<i8>` to integers, `<double>` to floats, `<boolean>` to
//! booleans, `<nil/>` to null, `<array>` to arrays, `<struct>` to objects, everything else
//! (`<string>`, untyped text, `<dateTime.iso8601>`, `<base64>`) to strings.

use serde_json::{Map, Number, Value};

/// Why an XML-RPC document could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum XmlRpcError {
    /// The bytes are not well-formed XML.
    #[error("malformed xml: {0}")]
    Malformed(String),
    /// The XML is not a well-formed XML-RPC document.
    #[error("invalid xml-rpc document: {0}")]
    Invalid(String),
}

/// A decoded `<methodCall>`.
#[derive(Debug, Clone, PartialEq)]
pub struct MethodCall {
    /// The `methodName`.
    pub method: String,
    /// The positional parameters.
    pub params: Vec<Value>,
}

/// A decoded `<methodResponse>`.
#[derive(Debug, Clone, PartialEq)]
pub enum MethodResponse {
    /// A `<params>` answer with its single value.
    Value(Value),
    /// A `<fault>` answer.
    Fault {
        /// `faultCode`.
        code: i64,
        /// `faultString`.
        string: String,
    },
}

/// Reads a `<methodCall>` document.
pub fn parse_call(text: &str) -> Result<MethodCall, XmlRpcError> {
    let doc =
        roxmltree::Document::parse(text).map_err(|e| XmlRpcError::Malformed(e.to_string()))?;
    let root = doc.root_element();
    if root.tag_name().name() != "methodCall" {
        return Err(XmlRpcError::Invalid("root is not methodCall".into()));
    }
    let method = child(root, "methodName")
        .and_then(|n| n.text())
        .ok_or_else(|| XmlRpcError::Invalid("no methodName".into()))?
        .trim()
        .to_owned();
    let params = match child(root, "params") {
        Some(params) => read_params(params)?,
        None => Vec::new(),
    };
    Ok(MethodCall { method, params })
}

/// Reads a `<methodResponse>` document.
pub fn parse_response(text: &str) -> Result<MethodResponse, XmlRpcError> {
    let doc =
        roxmltree::Document::parse(text).map_err(|e| XmlRpcError::Malformed(e.to_string()))?;
    let root = doc.root_element();
    if let Some(fault) = child(root, "fault") {
        return read_fault(fault);
    }
    let params = child(root, "params").ok_or_else(|| XmlRpcError::Invalid("no params".into()))?;
    let mut values = read_params(params)?;
    match values.len() {
        1 => Ok(MethodResponse::Value(values.remove(0))),
        n => Err(XmlRpcError::Invalid(format!("{n} params in a response"))),
    }
}

fn read_fault(fault: roxmltree::Node) -> Result<MethodResponse, XmlRpcError> {
    let value = child(fault, "value").ok_or_else(|| XmlRpcError::Invalid("empty fault".into()))?;
    let value = read_value(value)?;
    let code = value.get("faultCode").and_then(Value::as_i64);
    let string = value.get("faultString").and_then(Value::as_str);
    match (code, string) {
        (Some(code), Some(string)) => Ok(MethodResponse::Fault {
            code,
            string: string.to_owned(),
        }),
        _ => Err(XmlRpcError::Invalid(
            "fault without faultCode/faultString".into(),
        )),
    }
}

fn read_params(params: roxmltree::Node) -> Result<Vec<Value>, XmlRpcError> {
    elements(params)
        .filter(|n| n.tag_name().name() == "param")
        .map(|param| {
            let value = child(param, "value")
                .ok_or_else(|| XmlRpcError::Invalid("param without value".into()))?;
            read_value(value)
        })
        .collect()
}

fn read_value(value: roxmltree::Node) -> Result<Value, XmlRpcError> {
    let Some(typed) = elements(value).next() else {
        return Ok(Value::String(value.text().unwrap_or_default().to_owned()));
    };
    let text = typed.text().unwrap_or_default();
    match typed.tag_name().name() {
        "int" | "i4" | "i8" => read_int(text),
        "double" => read_double(text),
        "boolean" => Ok(Value::Bool(text.trim() == "1")),
        "nil" => Ok(Value::Null),
        "array" => read_array(typed),
        "struct" => read_struct(typed),
        "string" | "dateTime.iso8601" | "base64" => Ok(Value::String(text.to_owned())),
        other => Err(XmlRpcError::Invalid(format!("unknown value type {other}"))),
    }
}

fn read_int(text: &str) -> Result<Value, XmlRpcError> {
    let n: i64 = text
        .trim()
        .parse()
        .map_err(|_| XmlRpcError::Invalid(format!("bad int {text}")))?;
    Ok(Value::from(n))
}

fn read_double(text: &str) -> Result<Value, XmlRpcError> {
    let f: f64 = text
        .trim()
        .parse()
        .map_err(|_| XmlRpcError::Invalid(format!("bad double {text}")))?;
    Number::from_f64(f)
        .map(Value::Number)
        .ok_or_else(|| XmlRpcError::Invalid(format!("non-finite double {text}")))
}

fn read_array(array: roxmltree::Node) -> Result<Value, XmlRpcError> {
    let data =
        child(array, "data").ok_or_else(|| XmlRpcError::Invalid("array without data".into()))?;
    let items = elements(data)
        .filter(|n| n.tag_name().name() == "value")
        .map(read_value)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Value::Array(items))
}

fn read_struct(node: roxmltree::Node) -> Result<Value, XmlRpcError> {
    let mut map = Map::new();
    for member in elements(node).filter(|n| n.tag_name().name() == "member") {
        let name = child(member, "name")
            .and_then(|n| n.text())
            .unwrap_or_default();
        let value = child(member, "value")
            .ok_or_else(|| XmlRpcError::Invalid("member without value".into()))?;
        map.insert(name.to_owned(), read_value(value)?);
    }
    Ok(Value::Object(map))
}

fn elements<'a, 'i>(
    node: roxmltree::Node<'a, 'i>,
) -> impl Iterator<Item = roxmltree::Node<'a, 'i>> {
    node.children().filter(roxmltree::Node::is_element)
}

fn child<'a, 'i>(node: roxmltree::Node<'a, 'i>, name: &str) -> Option<roxmltree::Node<'a, 'i>> {
    elements(node).find(|n| n.tag_name().name() == name)
}

/// Whether a value holds a null anywhere, which Python's marshaller refuses (`allow_none=False`).
pub fn contains_null(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Array(items) => items.iter().any(contains_null),
        Value::Object(map) => map.values().any(contains_null),
        _ => false,
    }
}

/// Writes a successful `<methodResponse>`.
pub fn write_response(value: &Value) -> String {
    let mut out = String::from("<?xml version=\"1.0\"?>\n<methodResponse>\n<params>\n<param>\n");
    write_value(&mut out, value);
    out.push_str("</param>\n</params>\n\n</methodResponse>\n");
    out
}

/// Writes a `<fault>` `<methodResponse>`.
pub fn write_fault(code: i64, string: &str) -> String {
    let mut out = String::from("<?xml version=\"1.0\"?>\n<methodResponse>\n<fault>\n");
    let mut fault = Map::new();
    fault.insert("faultCode".into(), Value::from(code));
    fault.insert("faultString".into(), Value::from(string));
    write_value(&mut out, &Value::Object(fault));
    out.push_str("</fault>\n\n</methodResponse>\n");
    out
}

/// Writes a `<methodCall>` (used by tests and tools that talk to the sandbox).
pub fn write_call(method: &str, params: &[Value]) -> String {
    let mut out = format!(
        "<?xml version='1.0'?>\n<methodCall>\n<methodName>{}</methodName>\n<params>\n",
        escape(method)
    );
    for param in params {
        out.push_str("<param>\n");
        write_value(&mut out, param);
        out.push_str("</param>\n");
    }
    out.push_str("</params>\n</methodCall>\n");
    out
}

fn write_value(out: &mut String, value: &Value) {
    out.push_str("<value>");
    match value {
        Value::Null => out.push_str("<nil/>"),
        Value::Bool(b) => out.push_str(if *b {
            "<boolean>1</boolean>"
        } else {
            "<boolean>0</boolean>"
        }),
        Value::Number(n) => write_number(out, n),
        Value::String(s) => {
            out.push_str("<string>");
            out.push_str(&escape(s));
            out.push_str("</string>");
        }
        Value::Array(items) => write_array(out, items),
        Value::Object(map) => write_struct(out, map),
    }
    out.push_str("</value>\n");
}

fn write_number(out: &mut String, n: &Number) {
    if let Some(i) = n.as_i64() {
        out.push_str(&format!("<int>{i}</int>"));
    } else {
        out.push_str(&format!(
            "<double>{}</double>",
            python_float(n.as_f64().unwrap_or_default())
        ));
    }
}

fn write_array(out: &mut String, items: &[Value]) {
    out.push_str("<array><data>\n");
    for item in items {
        write_value(out, item);
    }
    out.push_str("</data></array>");
}

fn write_struct(out: &mut String, map: &Map<String, Value>) {
    out.push_str("<struct>\n");
    for (name, value) in map {
        out.push_str("<member>\n<name>");
        out.push_str(&escape(name));
        out.push_str("</name>\n");
        write_value(out, value);
        out.push_str("</member>\n");
    }
    out.push_str("</struct>");
}

/// A float as Python's `repr` prints it (`2240.0`, not `2240`).
pub fn python_float(f: f64) -> String {
    format!("{f:?}")
}

/// Escapes the characters XML text cannot hold as is.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_written_response_reads_back_as_the_same_value() {
        let value = json!([{"id": 4, "amount": 2240.0, "ref": false, "partner": [11, "A & B"]}]);

        let parsed = parse_response(&write_response(&value)).unwrap();

        assert_eq!(parsed, MethodResponse::Value(value));
    }

    #[test]
    fn a_written_call_reads_back_with_its_parameters() {
        let params = vec![
            json!("db"),
            json!(8),
            json!([[["state", "in", ["sale"]]]]),
            json!({}),
        ];

        let call = parse_call(&write_call("execute_kw", &params)).unwrap();

        assert_eq!(call.method, "execute_kw");
        assert_eq!(call.params, params);
    }

    #[test]
    fn a_fault_reads_back_with_code_and_string() {
        let parsed = parse_response(&write_fault(3, "Access Denied")).unwrap();

        assert_eq!(
            parsed,
            MethodResponse::Fault {
                code: 3,
                string: "Access Denied".into()
            }
        );
    }

    #[test]
    fn untyped_values_are_strings_and_nil_is_null() {
        let text =
            "<methodCall><methodName>x</methodName><params><param><value>abc</value></param>\
                    <param><value><nil/></value></param></params></methodCall>";

        let call = parse_call(text).unwrap();

        assert_eq!(call.params, vec![json!("abc"), Value::Null]);
    }
}
