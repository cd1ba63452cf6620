//! HTTP for all three protocols: the one place that builds HTTP clients, sends requests and
//! reads answers.
//!
//! Clients never follow redirects, ignore proxy settings and are pinned to the addresses
//! checked by [`crate::network`]. The API key is exposed only while a request is built.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Once;
use std::time::Duration;

use reqwest::header::{HeaderMap, ACCEPT, AUTHORIZATION, CONTENT_TYPE, LOCATION, RETRY_AFTER};
use reqwest::{redirect, Client, RequestBuilder, Response};
use secrecy::{ExposeSecret, SecretString};
use url::Host;

use crate::answer::{interpret, interpret_json, HttpAnswer};
use crate::classify;
use crate::codec::{json2, jsonrpc, xmlrpc};
use crate::error::{ErrorKind, OdooError};
use crate::methods::{Method, Service, EXECUTE_KW};
use crate::network::ServerUrl;
use crate::protocol::WireProtocol;
use crate::value::Value;

/// Time limits of HTTP calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// Establishing the TCP and TLS connection.
    pub connect: Duration,
    /// One whole request, answer included.
    pub request: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            connect: Duration::from_secs(10),
            request: Duration::from_secs(60),
        }
    }
}

/// Largest answer body read; a larger one is an unexpected response.
pub const DEFAULT_MAX_BODY_BYTES: usize = 64 * 1024 * 1024;

/// A model method call, independent of the protocol.
///
/// `positional` arguments go positionally in `execute_kw` and by their Python parameter name
/// in JSON-2; `named` ones are keyword arguments in both.
#[derive(Debug, Clone)]
pub(crate) struct ModelCall {
    pub(crate) model: String,
    pub(crate) method: Method,
    pub(crate) ids: Option<Vec<i64>>,
    pub(crate) positional: Vec<(&'static str, Value)>,
    pub(crate) named: Vec<(&'static str, Value)>,
}

/// Who is calling: the database and the credentials.
#[derive(Debug, Clone)]
pub(crate) struct Credentials {
    pub(crate) database: String,
    pub(crate) uid: Option<i64>,
    pub(crate) api_key: SecretString,
}

/// An HTTP client pinned to one Odoo server.
#[derive(Debug, Clone)]
pub(crate) struct Transport {
    http: Client,
    server: ServerUrl,
    max_body: usize,
    next_id: std::sync::Arc<AtomicU64>,
}

static CRYPTO_PROVIDER: Once = Once::new();

/// Installs the ring provider for rustls; reqwest panics without one.
fn install_crypto_provider() {
    CRYPTO_PROVIDER.call_once(|| {
        // Another part of the process may have installed one already: either is fine.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

impl Transport {
    /// Builds the HTTP client for `server`, resolved to `addrs`.
    pub(crate) fn new(
        server: ServerUrl,
        addrs: &[SocketAddr],
        timeouts: Timeouts,
        max_body: usize,
    ) -> Result<Transport, OdooError> {
        install_crypto_provider();
        let mut builder = Client::builder()
            .redirect(redirect::Policy::none())
            .no_proxy()
            .connect_timeout(timeouts.connect)
            .timeout(timeouts.request)
            .user_agent(concat!(
                "prepstation-odoo-client/",
                env!("CARGO_PKG_VERSION")
            ));
        if let Some(Host::Domain(name)) = server.host() {
            builder = builder.resolve_to_addrs(name, addrs);
        }

        let http = builder.build().map_err(|e| classify::transport(&e))?;
        Ok(Transport {
            http,
            server,
            max_body,
            next_id: Default::default(),
        })
    }

    /// `GET /web/version`: the version on Odoo 19+, an error (usually 404) before.
    pub(crate) async fn web_version(&self) -> Result<Value, OdooError> {
        let request = self.http.get(self.server.join(&["web", "version"]));
        let answer = self.send(request).await?;
        interpret_json(&answer)
    }

    /// A `common` or `db` service method over a legacy protocol.
    pub(crate) async fn call_service(
        &self,
        protocol: WireProtocol,
        method: Method,
        args: Vec<Value>,
    ) -> Result<Value, OdooError> {
        self.legacy(protocol, method.service(), method.name(), args)
            .await
    }

    /// `common.authenticate(db, login, key, {})` over a legacy protocol; the key is exposed
    /// here, into the body.
    pub(crate) async fn authenticate(
        &self,
        protocol: WireProtocol,
        credentials: &Credentials,
        login: &str,
    ) -> Result<Value, OdooError> {
        let args = vec![
            Value::from(credentials.database.as_str()),
            Value::from(login),
            Value::from(credentials.api_key.expose_secret()),
            Value::Struct(BTreeMap::new()),
        ];
        self.call_service(protocol, Method::Authenticate, args)
            .await
    }

    /// A model method over `protocol`.
    pub(crate) async fn call_model(
        &self,
        protocol: WireProtocol,
        credentials: &Credentials,
        call: &ModelCall,
    ) -> Result<Value, OdooError> {
        match protocol {
            WireProtocol::Json2 => self.json2(credentials, call).await,
            legacy => {
                let args = execute_kw_args(credentials, call)?;
                self.legacy(legacy, Service::Object, EXECUTE_KW, args).await
            }
        }
    }

    async fn json2(&self, credentials: &Credentials, call: &ModelCall) -> Result<Value, OdooError> {
        let url = self
            .server
            .join(&["json", "2", &call.model, call.method.name()]);
        let bearer = format!("bearer {}", credentials.api_key.expose_secret());
        let request = self
            .http
            .post(url)
            .header(AUTHORIZATION, bearer)
            .header("X-Odoo-Database", credentials.database.as_str())
            .header(CONTENT_TYPE, "application/json; charset=utf-8")
            .header(ACCEPT, "application/json")
            .body(json2::encode_body(&json2_arguments(call)));

        let answer = self.send(request).await?;
        interpret(WireProtocol::Json2, &answer)
    }

    async fn legacy(
        &self,
        protocol: WireProtocol,
        service: Service,
        method: &str,
        args: Vec<Value>,
    ) -> Result<Value, OdooError> {
        let request = match protocol {
            WireProtocol::XmlRpc => self
                .http
                .post(self.server.join(&["xmlrpc", "2", service.as_str()]))
                .header(CONTENT_TYPE, "text/xml")
                .header(ACCEPT, "text/xml")
                .body(xmlrpc::encode_call(method, &args)),
            _ => {
                let id = self.next_id.fetch_add(1, Ordering::Relaxed) + 1;
                self.http
                    .post(self.server.join(&["jsonrpc"]))
                    .header(CONTENT_TYPE, "application/json")
                    .header(ACCEPT, "application/json")
                    .body(jsonrpc::encode_call(id, service.as_str(), method, &args))
            }
        };

        let answer = self.send(request).await?;
        interpret(protocol, &answer)
    }

    async fn send(&self, request: RequestBuilder) -> Result<HttpAnswer, OdooError> {
        let response = request.send().await.map_err(|e| classify::transport(&e))?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = read_body(response, self.max_body).await?;

        Ok(HttpAnswer {
            status,
            content_type: header(&headers, CONTENT_TYPE.as_str()),
            retry_after: header(&headers, RETRY_AFTER.as_str()),
            location: header(&headers, LOCATION.as_str()),
            body,
        })
    }
}

async fn read_body(mut response: Response, limit: usize) -> Result<Vec<u8>, OdooError> {
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| classify::transport(&e))?
    {
        if body.len() + chunk.len() > limit {
            let detail = format!("answer larger than {limit} bytes");
            return Err(OdooError::new(ErrorKind::UnexpectedResponse, detail));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// `[db, uid, key, model, method, args, kwargs]`; the key is exposed here, into the body.
fn execute_kw_args(credentials: &Credentials, call: &ModelCall) -> Result<Vec<Value>, OdooError> {
    let uid = credentials.uid.ok_or_else(|| {
        OdooError::new(ErrorKind::AuthenticationFailed, "not authenticated: no uid")
    })?;
    let mut args: Vec<Value> = call
        .ids
        .iter()
        .map(|ids| Value::ints(ids.iter().copied()))
        .collect();
    args.extend(call.positional.iter().map(|(_, value)| value.clone()));
    let kwargs: BTreeMap<String, Value> = call
        .named
        .iter()
        .map(|(name, value)| ((*name).to_owned(), value.clone()))
        .collect();

    Ok(vec![
        Value::from(credentials.database.as_str()),
        Value::Int(uid),
        Value::from(credentials.api_key.expose_secret()),
        Value::from(call.model.as_str()),
        Value::from(call.method.name()),
        Value::Array(args),
        Value::Struct(kwargs),
    ])
}

/// The JSON-2 body: `ids` (record methods only) and every argument by name.
fn json2_arguments(call: &ModelCall) -> BTreeMap<String, Value> {
    let ids = call
        .ids
        .iter()
        .map(|ids| ("ids", Value::ints(ids.iter().copied())));
    let arguments = call
        .positional
        .iter()
        .chain(&call.named)
        .map(|(n, v)| (*n, v.clone()));
    ids.chain(arguments)
        .map(|(name, value)| (name.to_owned(), value))
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn search_read() -> ModelCall {
        ModelCall {
            model: "sale.order".into(),
            method: Method::SearchRead,
            ids: None,
            positional: vec![("domain", Value::Array(vec![]))],
            named: vec![
                ("limit", Value::Int(5)),
                ("fields", Value::strings(["name"])),
            ],
        }
    }

    fn credentials() -> Credentials {
        Credentials {
            database: "db".into(),
            uid: Some(8),
            api_key: SecretString::from("k"),
        }
    }

    #[test]
    fn json2_sends_every_argument_by_name_and_no_ids_to_model_methods() {
        let body = json2::encode_body(&json2_arguments(&search_read()));

        assert_eq!(body, r#"{"domain":[],"fields":["name"],"limit":5}"#);
    }

    #[test]
    fn json2_sends_ids_to_record_methods() {
        let call = ModelCall {
            method: Method::HasAccess,
            ids: Some(vec![]),
            positional: vec![("operation", Value::from("read"))],
            named: vec![],
            ..search_read()
        };

        assert_eq!(
            json2::encode_body(&json2_arguments(&call)),
            r#"{"ids":[],"operation":"read"}"#
        );
    }

    #[test]
    fn execute_kw_sends_the_domain_positionally_and_the_rest_as_keywords() {
        let args = execute_kw_args(&credentials(), &search_read()).unwrap();
        let json = serde_json::Value::from(&Value::Array(args)).to_string();

        assert_eq!(
            json,
            r#"["db",8,"k","sale.order","search_read",[[]],{"fields":["name"],"limit":5}]"#
        );
    }

    #[test]
    fn execute_kw_needs_a_uid() {
        let credentials = Credentials {
            uid: None,
            ..credentials()
        };

        let error = execute_kw_args(&credentials, &search_read()).unwrap_err();

        assert_eq!(error.kind(), ErrorKind::AuthenticationFailed);
    }
}
