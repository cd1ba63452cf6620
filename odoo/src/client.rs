//! The client's interface: connect to a server (protocol and version detection), then
//! authenticate to get a session that reads.

use std::num::NonZeroU32;

use secrecy::SecretString;
use tracing::Instrument;

use crate::domain::Domain;
use crate::error::{ErrorKind, OdooError};
use crate::fields::FieldCatalog;
use crate::methods::Method;
use crate::models::{self, OdooUser, OrderLine, Product, SalesOrder, SalesScope, Unit};
use crate::network::{self, NetworkPolicy, ServerUrl};
use crate::protocol::{Protocol, WireProtocol};
use crate::record::Record;
use crate::retry::RetryPolicy;
use crate::transport::{Credentials, ModelCall, Timeouts, Transport, DEFAULT_MAX_BODY_BYTES};
use crate::value::Value;
use crate::version::OdooVersion;

/// Everything configurable about how the client talks to servers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientOptions {
    /// Which URLs and addresses may be reached.
    pub network: NetworkPolicy,
    /// HTTP time limits.
    pub timeouts: Timeouts,
    /// Retries of transient failures.
    pub retry: RetryPolicy,
    /// Largest answer body accepted.
    pub max_body_bytes: usize,
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            network: NetworkPolicy::default(),
            timeouts: Timeouts::default(),
            retry: RetryPolicy::default(),
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
        }
    }
}

/// A reachable Odoo server whose version and protocol are known.
#[derive(Debug, Clone)]
pub struct OdooServer {
    transport: Transport,
    protocol: WireProtocol,
    version: OdooVersion,
    retry: RetryPolicy,
}

impl OdooServer {
    /// Checks the URL, resolves and checks its addresses, then detects version and protocol:
    /// `GET /web/version` answers on 19+ (JSON-2); otherwise `common.version` over JSON-RPC.
    /// An explicit protocol is used as asked (JSON-2 only on 19+). Servers older than 14 are
    /// [`ErrorKind::UnsupportedVersion`].
    pub async fn connect(
        url: &str,
        protocol: Protocol,
        options: &ClientOptions,
    ) -> Result<OdooServer, OdooError> {
        let span = tracing::info_span!("odoo_connect", requested = ?protocol);
        async {
            let server = ServerUrl::parse(url, options.network)?;
            let addrs =
                network::resolve(&server, options.network, options.timeouts.connect).await?;
            let transport =
                Transport::new(server, &addrs, options.timeouts, options.max_body_bytes)?;

            let (wire, version) = detect(&transport, protocol, options.retry).await?;
            version.ensure_supported()?;
            tracing::info!(
                protocol = wire.code(),
                major = version.major,
                "odoo server detected"
            );
            Ok(OdooServer {
                transport,
                protocol: wire,
                version,
                retry: options.retry,
            })
        }
        .instrument(span)
        .await
    }

    /// The protocol in use.
    pub fn protocol(&self) -> WireProtocol {
        self.protocol
    }

    /// The server's version.
    pub fn version(&self) -> &OdooVersion {
        &self.version
    }

    /// The databases of the server, or `None` where the server does not list them.
    ///
    /// Uses `db.list` over the legacy protocol (JSON-RPC on JSON-2 servers, which still
    /// serve it on 19; where a JSON-2 server no longer does, the answer is `None`). That list
    /// is not filtered by the server's database filter.
    pub async fn list_databases(&self) -> Result<Option<Vec<String>>, OdooError> {
        let protocol = self.legacy_protocol();
        let answer = self
            .retry
            .run(|| {
                self.transport
                    .call_service(protocol, Method::ListDatabases, vec![])
            })
            .await;

        let route_missing = |e: &OdooError| {
            self.protocol == WireProtocol::Json2 && e.kind() == ErrorKind::UnexpectedResponse
        };
        match answer {
            Ok(value) => string_list(&value).map(Some),
            Err(error) if error.kind() == ErrorKind::AuthenticationFailed => Ok(None),
            Err(error) if route_missing(&error) => Ok(None),
            Err(error) => Err(error),
        }
    }

    /// Logs in to `database`. Legacy protocols call `common.authenticate` (a `false` answer
    /// is a failure); JSON-2 asks whose key it is and checks that its login is `login`.
    pub async fn authenticate(
        &self,
        database: &str,
        login: &str,
        api_key: SecretString,
    ) -> Result<OdooSession, OdooError> {
        let span = tracing::info_span!("odoo_authenticate", protocol = self.protocol.code());
        async {
            let credentials = Credentials {
                database: database.to_owned(),
                uid: None,
                api_key,
            };
            let mut session = OdooSession {
                server: self.clone(),
                credentials,
            };
            let uid = match self.protocol {
                WireProtocol::Json2 => session.json2_uid(login).await?,
                legacy => session.legacy_uid(legacy, login).await?,
            };
            session.credentials.uid = Some(uid);
            tracing::info!("odoo user authenticated");
            Ok(session)
        }
        .instrument(span)
        .await
    }

    fn legacy_protocol(&self) -> WireProtocol {
        match self.protocol {
            WireProtocol::Json2 => WireProtocol::JsonRpc,
            legacy => legacy,
        }
    }
}

async fn detect(
    transport: &Transport,
    protocol: Protocol,
    retry: RetryPolicy,
) -> Result<(WireProtocol, OdooVersion), OdooError> {
    let legacy = |wire: WireProtocol| async move {
        let answer = retry
            .run(|| transport.call_service(wire, Method::Version, vec![]))
            .await?;
        Ok((wire, OdooVersion::from_common_version(&answer)?))
    };
    match protocol {
        Protocol::XmlRpc => legacy(WireProtocol::XmlRpc).await,
        Protocol::JsonRpc => legacy(WireProtocol::JsonRpc).await,
        Protocol::Json2 => match web_version(transport, retry).await? {
            Some(version) => Ok((WireProtocol::Json2, version)),
            None => Err(OdooError::new(
                ErrorKind::UnsupportedVersion,
                "JSON-2 needs Odoo 19 or later; choose JSON-RPC or XML-RPC",
            )),
        },
        Protocol::Auto => match web_version(transport, retry).await? {
            Some(version) => Ok((WireProtocol::Json2, version)),
            None => legacy(WireProtocol::JsonRpc).await,
        },
    }
}

/// The version from `GET /web/version` if the server serves JSON-2; `None` when the route
/// is missing or answers something else (404 on 18 and older). Transient failures are
/// errors: the server could not be reached.
async fn web_version(
    transport: &Transport,
    retry: RetryPolicy,
) -> Result<Option<OdooVersion>, OdooError> {
    let answer = match retry.run(|| transport.web_version()).await {
        Ok(answer) => answer,
        Err(error) if error.is_transient() => return Err(error),
        Err(_) => return Ok(None),
    };
    let info = answer.as_struct().and_then(|m| m.get("version_info"));
    let text = answer
        .as_struct()
        .and_then(|m| m.get("version"))
        .and_then(Value::as_str);
    let version = info.and_then(|info| OdooVersion::from_info(info, text).ok());
    Ok(version.filter(OdooVersion::has_json2))
}

/// A `search_read`: Odoo has no default limit, so one is always given.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchRead {
    /// The model, e.g. `sale.order`.
    pub model: String,
    /// Which records.
    pub domain: Domain,
    /// Which fields (never empty: an empty list reads every field).
    pub fields: Vec<String>,
    /// SQL-like order, e.g. `write_date asc, id asc`.
    pub order: Option<String>,
    /// Most records returned.
    pub limit: NonZeroU32,
    /// Records skipped first.
    pub offset: u32,
}

impl SearchRead {
    /// A query of `fields` of the records of `model` matching `domain`, at most `limit`.
    pub fn new(model: &str, domain: Domain, fields: &[&str], limit: NonZeroU32) -> SearchRead {
        SearchRead {
            model: model.to_owned(),
            domain,
            fields: fields.iter().map(|f| (*f).to_owned()).collect(),
            order: None,
            limit,
            offset: 0,
        }
    }

    /// The same query with an order.
    pub fn order_by(mut self, order: &str) -> SearchRead {
        self.order = Some(order.to_owned());
        self
    }

    /// The same query from `offset`.
    pub fn from_offset(mut self, offset: u32) -> SearchRead {
        self.offset = offset;
        self
    }

    fn paging(&self) -> Vec<(&'static str, Value)> {
        let mut named = vec![
            ("limit", Value::Int(i64::from(self.limit.get()))),
            ("offset", Value::Int(i64::from(self.offset))),
        ];
        if let Some(order) = &self.order {
            named.push(("order", Value::from(order.as_str())));
        }
        named
    }
}

/// An authenticated connection to one database. Every method only reads.
#[derive(Debug, Clone)]
pub struct OdooSession {
    server: OdooServer,
    credentials: Credentials,
}

impl OdooSession {
    /// The authenticated user's id.
    pub fn uid(&self) -> i64 {
        self.credentials.uid.unwrap_or_default()
    }

    /// The server's version.
    pub fn version(&self) -> &OdooVersion {
        &self.server.version
    }

    /// The protocol in use.
    pub fn protocol(&self) -> WireProtocol {
        self.server.protocol
    }

    /// `search_read`: matching records with the fields asked for.
    pub async fn search_read(&self, query: &SearchRead) -> Result<Vec<Record>, OdooError> {
        let mut named = vec![("fields", Value::strings(&query.fields))];
        named.extend(query.paging());
        let call = self.model_call(
            &query.model,
            Method::SearchRead,
            None,
            domain_arg(&query.domain),
            named,
        );
        Record::list(self.call(call).await?)
    }

    /// `search`: the ids of matching records.
    pub async fn search(&self, query: &SearchRead) -> Result<Vec<i64>, OdooError> {
        let call = self.model_call(
            &query.model,
            Method::Search,
            None,
            domain_arg(&query.domain),
            query.paging(),
        );
        id_list(&self.call(call).await?)
    }

    /// `search_count`: how many records match.
    pub async fn search_count(&self, model: &str, domain: &Domain) -> Result<u64, OdooError> {
        let call = self.model_call(model, Method::SearchCount, None, domain_arg(domain), vec![]);
        let answer = self.call(call).await?;
        answer
            .as_i64()
            .and_then(|n| u64::try_from(n).ok())
            .ok_or_else(|| malformed("a count"))
    }

    /// `read`: the records of `ids` that exist, in the order of `ids`.
    pub async fn read(
        &self,
        model: &str,
        ids: &[i64],
        fields: &[&str],
    ) -> Result<Vec<Record>, OdooError> {
        let named = vec![("fields", Value::strings(fields.iter().copied()))];
        let call = self.model_call(model, Method::Read, Some(ids.to_vec()), vec![], named);
        Record::list(self.call(call).await?)
    }

    /// `fields_get` with explicit attributes (see [`crate::fields::FIELD_ATTRIBUTES`]).
    pub async fn fields_get(
        &self,
        model: &str,
        attributes: &[&str],
    ) -> Result<FieldCatalog, OdooError> {
        let named = vec![("attributes", Value::strings(attributes.iter().copied()))];
        let call = self.model_call(model, Method::FieldsGet, None, vec![], named);
        FieldCatalog::from_value(model, &self.call(call).await?)
    }

    /// Whether the user may read `model`: `check_access_rights` up to 17, `has_access` from 18.
    pub async fn can_read(&self, model: &str) -> Result<bool, OdooError> {
        let operation = ("operation", Value::from("read"));
        let call = match self.version().access_check() {
            Method::HasAccess => self.model_call(
                model,
                Method::HasAccess,
                Some(vec![]),
                vec![operation],
                vec![],
            ),
            _ => self.model_call(
                model,
                Method::CheckAccessRights,
                None,
                vec![operation],
                vec![("raise_exception", Value::Bool(false))],
            ),
        };
        self.call(call)
            .await?
            .as_bool()
            .ok_or_else(|| malformed("a boolean"))
    }

    /// The connecting user's own record: login and groups.
    pub async fn current_user(&self) -> Result<OdooUser, OdooError> {
        let fields = ["login", self.version().user_groups_field()];
        let records = self.read("res.users", &[self.uid()], &fields).await?;
        let record = records
            .first()
            .ok_or_else(|| malformed("the user's own record"))?;
        OdooUser::from_record(record, self.version())
    }

    /// Whether the user has the group with external id `group_ext_id`
    /// (`res.users.has_group` on the user's own record).
    pub async fn has_group(&self, group_ext_id: &str) -> Result<bool, OdooError> {
        let group = vec![("group_ext_id", Value::from(group_ext_id))];
        let call = self.model_call(
            "res.users",
            Method::HasGroup,
            Some(vec![self.uid()]),
            group,
            vec![],
        );
        self.call(call)
            .await?
            .as_bool()
            .ok_or_else(|| malformed("a boolean"))
    }

    /// Which sales orders the user can read: all, its own only, or none.
    pub async fn sales_scope(&self) -> Result<SalesScope, OdooError> {
        if self.has_group(models::GROUP_SALES_ALL).await? {
            return Ok(SalesScope::AllDocuments);
        }
        match self.has_group(models::GROUP_SALES_OWN).await? {
            true => Ok(SalesScope::OwnDocumentsOnly),
            false => Ok(SalesScope::NoAccess),
        }
    }

    /// `product.product` records: internal reference, barcode, unit.
    pub async fn products(&self, ids: &[i64]) -> Result<Vec<Product>, OdooError> {
        let records = self
            .read("product.product", ids, &models::PRODUCT_FIELDS)
            .await?;
        records.iter().map(Product::from_record).collect()
    }

    /// `uom.uom` records, in the version's scheme (categories up to 18, relative from 19).
    pub async fn units(&self, ids: &[i64]) -> Result<Vec<Unit>, OdooError> {
        let fields = models::unit_fields(self.version());
        let records = self.read("uom.uom", ids, &fields).await?;
        records
            .iter()
            .map(|r| Unit::from_record(r, self.version()))
            .collect()
    }

    /// A page of sales orders matching `domain`.
    pub async fn sales_orders(
        &self,
        domain: Domain,
        order: &str,
        limit: NonZeroU32,
        offset: u32,
    ) -> Result<Vec<SalesOrder>, OdooError> {
        let fields = models::order_fields(self.version());
        let query = SearchRead::new("sale.order", domain, &fields, limit)
            .order_by(order)
            .from_offset(offset);
        let records = self.search_read(&query).await?;
        records
            .iter()
            .map(|r| SalesOrder::from_record(r, self.version()))
            .collect()
    }

    /// Sales order lines by id.
    pub async fn order_lines(&self, ids: &[i64]) -> Result<Vec<OrderLine>, OdooError> {
        let fields = models::line_fields(self.version());
        let records = self.read("sale.order.line", ids, &fields).await?;
        records
            .iter()
            .map(|r| OrderLine::from_record(r, self.version()))
            .collect()
    }

    fn model_call(
        &self,
        model: &str,
        method: Method,
        ids: Option<Vec<i64>>,
        positional: Vec<(&'static str, Value)>,
        named: Vec<(&'static str, Value)>,
    ) -> ModelCall {
        ModelCall {
            model: model.to_owned(),
            method,
            ids,
            positional,
            named,
        }
    }

    async fn call(&self, call: ModelCall) -> Result<Value, OdooError> {
        let span = tracing::debug_span!(
            "odoo_call",
            protocol = self.protocol().code(),
            model = %call.model,
            method = call.method.name(),
        );
        let (transport, protocol) = (&self.server.transport, self.server.protocol);
        self.server
            .retry
            .run(|| transport.call_model(protocol, &self.credentials, &call))
            .instrument(span)
            .await
    }

    async fn legacy_uid(&self, protocol: WireProtocol, login: &str) -> Result<i64, OdooError> {
        let (transport, credentials) = (&self.server.transport, &self.credentials);
        let answer = self
            .server
            .retry
            .run(|| transport.authenticate(protocol, credentials, login))
            .await?;

        match answer {
            Value::Int(uid) if uid > 0 => Ok(uid),
            Value::Bool(false) | Value::Int(_) => Err(refused("login or API key refused")),
            _ => Err(malformed("a uid")),
        }
    }

    /// On JSON-2 the key alone identifies the user: `res.users.context_get` gives its uid,
    /// whose login must be the one given.
    async fn json2_uid(&mut self, login: &str) -> Result<i64, OdooError> {
        let call = self.model_call("res.users", Method::ContextGet, None, vec![], vec![]);
        let context = self.call(call).await?;
        let uid = context
            .as_struct()
            .and_then(|c| c.get("uid"))
            .and_then(Value::as_i64)
            .ok_or_else(|| malformed("a context with the uid"))?;
        self.credentials.uid = Some(uid);

        let user = self.read("res.users", &[uid], &["login"]).await?;
        let key_login = user.first().map(|r| r.text("login")).transpose()?.flatten();
        match key_login.as_deref().map(str::trim) == Some(login.trim()) {
            true => Ok(uid),
            false => Err(refused(
                "the API key belongs to another user than the login given",
            )),
        }
    }
}

fn domain_arg(domain: &Domain) -> Vec<(&'static str, Value)> {
    vec![("domain", domain.to_value())]
}

fn id_list(value: &Value) -> Result<Vec<i64>, OdooError> {
    let items = value.as_array().ok_or_else(|| malformed("a list of ids"))?;
    items
        .iter()
        .map(|v| v.as_i64().ok_or_else(|| malformed("a list of ids")))
        .collect()
}

fn string_list(value: &Value) -> Result<Vec<String>, OdooError> {
    let items = value
        .as_array()
        .ok_or_else(|| malformed("a list of names"))?;
    items
        .iter()
        .map(|v| {
            v.as_str()
                .map(str::to_owned)
                .ok_or_else(|| malformed("a list of names"))
        })
        .collect()
}

fn refused(detail: &str) -> OdooError {
    OdooError::new(ErrorKind::AuthenticationFailed, detail.to_owned())
}

fn malformed(expected: &str) -> OdooError {
    OdooError::new(
        ErrorKind::UnexpectedResponse,
        format!("expected {expected}"),
    )
}
