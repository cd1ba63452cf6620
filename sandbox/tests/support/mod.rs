//! Test support: a minimal HTTP/1.1 client over a raw TCP socket (so tests also see broken
//! connections as they are) and JSON/XML-RPC call helpers.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// An HTTP answer as received.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }
}

/// Sends one request with `Connection: close` and reads the whole answer.
pub async fn send(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(String, String)],
    body: &[u8],
) -> std::io::Result<Answer> {
    let mut stream = TcpStream::connect(addr).await?;
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(body).await?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await?;
    parse_answer(&raw)
}

fn parse_answer(raw: &[u8]) -> std::io::Result<Answer> {
    let broken =
        |what: &str| std::io::Error::new(std::io::ErrorKind::UnexpectedEof, what.to_owned());
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| broken("no complete head"))?;
    let head = String::from_utf8_lossy(&raw[..end]).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| broken("bad status line"))?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let rest = &raw[end + 4..];
    let answer = Answer {
        status,
        headers,
        body: Vec::new(),
    };
    let body = if answer
        .header("transfer-encoding")
        .is_some_and(|t| t.contains("chunked"))
    {
        dechunk(rest).ok_or_else(|| broken("incomplete chunked body"))?
    } else if let Some(length) = answer
        .header("content-length")
        .and_then(|l| l.parse::<usize>().ok())
    {
        if rest.len() < length {
            return Err(broken("body shorter than its content length"));
        }
        rest[..length].to_vec()
    } else {
        rest.to_vec()
    };
    Ok(Answer { body, ..answer })
}

fn dechunk(mut rest: &[u8]) -> Option<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let line_end = rest.windows(2).position(|w| w == b"\r\n")?;
        let size =
            usize::from_str_radix(String::from_utf8_lossy(&rest[..line_end]).trim(), 16).ok()?;
        rest = &rest[line_end + 2..];
        if size == 0 {
            return Some(body);
        }
        body.extend_from_slice(rest.get(..size)?);
        rest = rest.get(size + 2..)?;
    }
}

fn json_headers() -> Vec<(String, String)> {
    vec![("Content-Type".into(), "application/json".into())]
}

/// A JSON-RPC call; returns the whole envelope.
pub async fn jsonrpc(addr: SocketAddr, service: &str, method: &str, args: Value) -> Value {
    let body = serde_json::json!({"jsonrpc": "2.0", "method": "call", "params": {"service": service, "method": method, "args": args}, "id": 1});
    let answer = send(
        addr,
        "POST",
        "/jsonrpc",
        &json_headers(),
        body.to_string().as_bytes(),
    )
    .await
    .unwrap();
    assert_eq!(answer.status, 200);
    answer.json()
}

/// A JSON-2 call with a bearer key and the database header.
pub async fn json2(
    addr: SocketAddr,
    database: &str,
    key: &str,
    model: &str,
    method: &str,
    body: Value,
) -> Answer {
    let mut headers = json_headers();
    headers.push(("Authorization".into(), format!("bearer {key}")));
    headers.push(("X-Odoo-Database".into(), database.into()));
    send(
        addr,
        "POST",
        &format!("/json/2/{model}/{method}"),
        &headers,
        body.to_string().as_bytes(),
    )
    .await
    .unwrap()
}

/// An XML-RPC call; returns the decoded answer.
pub async fn xmlrpc(
    addr: SocketAddr,
    service: &str,
    method: &str,
    params: &[Value],
) -> odoo_sandbox::xmlrpc::MethodResponse {
    let body = odoo_sandbox::xmlrpc::write_call(method, params);
    let headers = vec![("Content-Type".to_owned(), "text/xml".to_owned())];
    let answer = send(
        addr,
        "POST",
        &format!("/xmlrpc/2/{service}"),
        &headers,
        body.as_bytes(),
    )
    .await
    .unwrap();
    odoo_sandbox::xmlrpc::parse_response(&answer.text()).unwrap()
}
