//! A minimal HTTP/1.1 server that answers with recorded (or synthesized) Odoo responses,
//! so the client can be tested over real HTTP without an Odoo server.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// One request as received.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }

    /// For a JSON-RPC request: `service.method` or, for `execute_kw`, `model.method`.
    pub fn rpc_target(&self) -> String {
        let params = &self.json()["params"];
        let args = &params["args"];
        match params["method"].as_str() {
            Some("execute_kw") => format!(
                "{}.{}",
                args[3].as_str().unwrap_or(""),
                args[4].as_str().unwrap_or("")
            ),
            Some(method) => format!("{}.{}", params["service"].as_str().unwrap_or(""), method),
            None => String::new(),
        }
    }

    /// For an XML-RPC request: `service.method` or, for `execute_kw`, `model.method`.
    pub fn xml_target(&self) -> String {
        let text = String::from_utf8_lossy(&self.body);
        let strings: Vec<&str> = text
            .split("<string>")
            .skip(1)
            .filter_map(|s| s.split("</string>").next())
            .collect();
        let method = text
            .split("<methodName>")
            .nth(1)
            .and_then(|s| s.split("</methodName>").next())
            .unwrap_or("");
        let service = self.path.rsplit('/').next().unwrap_or("");
        match method {
            "execute_kw" => format!(
                "{}.{}",
                strings.get(2).unwrap_or(&""),
                strings.get(3).unwrap_or(&"")
            ),
            method => format!("{service}.{method}"),
        }
    }
}

/// What the server does with a request.
#[derive(Debug, Clone)]
pub enum Reply {
    /// Write these bytes (a whole HTTP response) and close.
    Raw(Vec<u8>),
    /// Never answer.
    Hang,
}

type Handler = Arc<dyn Fn(&Request) -> Reply + Send + Sync>;

/// A running replay server.
pub struct Replay {
    port: u16,
    requests: Arc<Mutex<Vec<Request>>>,
}

impl Replay {
    pub async fn start(handler: impl Fn(&Request) -> Reply + Send + Sync + 'static) -> Replay {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let handler: Handler = Arc::new(handler);
        let log = requests.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(serve(stream, handler.clone(), log.clone()));
            }
        });
        Replay { port, requests }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn requests(&self) -> Vec<Request> {
        self.requests.lock().unwrap().clone()
    }

    pub fn paths(&self) -> Vec<String> {
        self.requests().iter().map(|r| r.path.clone()).collect()
    }
}

async fn serve(mut stream: TcpStream, handler: Handler, log: Arc<Mutex<Vec<Request>>>) {
    let Some(request) = read_request(&mut stream).await else {
        return;
    };
    log.lock().unwrap().push(request.clone());
    match handler(&request) {
        Reply::Raw(bytes) => {
            let _ = stream.write_all(&bytes).await;
            let _ = stream.shutdown().await;
        }
        Reply::Hang => tokio::time::sleep(Duration::from_secs(30)).await,
    }
}

async fn read_request(stream: &mut TcpStream) -> Option<Request> {
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break end;
        }
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buffer.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buffer[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut first = lines.next()?.split(' ');
    let (method, path) = (first.next()?.to_owned(), first.next()?.to_owned());
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| {
            l.split_once(':')
                .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        })
        .collect();
    let length: usize = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = buffer[head_end + 4..].to_vec();
    while body.len() < length {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    Some(Request {
        method,
        path,
        headers,
        body,
    })
}

/// The raw recorded response of a case (`response.http`).
pub fn recorded(version: &str, prefix: &str) -> Reply {
    let dir = super::shared_odoo().join("transcripts").join(version);
    let case = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.file_name().unwrap().to_string_lossy().starts_with(prefix))
        .unwrap_or_else(|| panic!("no case {prefix}"));
    Reply::Raw(std::fs::read(case.join("response.http")).unwrap())
}

/// A synthesized response (for answers that were not recorded).
pub fn synthesized(status: u16, content_type: &str, extra_headers: &str, body: &str) -> Reply {
    let length = body.len();
    let head = format!(
        "HTTP/1.1 {status} X\r\nContent-Type: {content_type}\r\nContent-Length: {length}\r\n\
         Connection: close\r\n{extra_headers}\r\n"
    );
    Reply::Raw([head.as_bytes(), body.as_bytes()].concat())
}

/// A JSON-RPC result envelope.
pub fn jsonrpc_result(result: serde_json::Value) -> Reply {
    let body = serde_json::json!({"jsonrpc": "2.0", "id": 1, "result": result}).to_string();
    synthesized(200, "application/json; charset=utf-8", "", &body)
}

/// Werkzeug's 404 page, as an 18.0 server answers `GET /web/version`.
pub fn not_found_page() -> Reply {
    recorded("odoo-18.0", "95-")
}
