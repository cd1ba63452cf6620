//! The staged connection test: reach the server, read its version, find the database,
//! authenticate, check read access to sales orders and lines, check the fields a sync needs,
//! then validate the filter and count the orders it matches. The first failing stage is
//! reported with its error code and hint; the key never appears in a result or a log.

use application::ports::{ConnectionProber, ProbeTarget};
use async_trait::async_trait;
use chrono::Utc;
use domain::connection::{
    ConnectionTestResult, ResolvedProtocol, TestFailure, TestStage, TestWarning,
};
use odoo_client::domain::check_fields as check_filter_fields;
use odoo_client::fields::FIELD_ATTRIBUTES;
use odoo_client::models::{line_fields, order_fields, SalesScope};
use odoo_client::{
    ClientOptions, Domain, ErrorKind, OdooError, OdooServer, OdooSession, WireProtocol,
};
use tracing::instrument;

use super::scope::import_scope;
use super::{bounded, protocol, user_message};

/// A [`ConnectionProber`] on the Odoo client.
#[derive(Debug, Clone)]
pub struct OdooProber {
    options: ClientOptions,
}

impl OdooProber {
    /// A prober with these client options (network policy, timeouts, retries).
    pub fn new(options: ClientOptions) -> Self {
        Self { options }
    }
}

type StageResult<T> = Result<T, (TestStage, OdooError)>;

/// What the test learned before it stopped.
#[derive(Debug, Default)]
struct Findings {
    protocol: Option<ResolvedProtocol>,
    server_version: Option<String>,
    warnings: Vec<TestWarning>,
}

#[async_trait]
impl ConnectionProber for OdooProber {
    #[instrument(skip_all, fields(protocol = ?target.settings.protocol))]
    async fn probe(&self, target: ProbeTarget) -> ConnectionTestResult {
        let mut findings = Findings::default();
        let outcome = self.run(&target, &mut findings).await;
        let (stage, matching_orders, error) = match outcome {
            Ok(count) => (TestStage::Done, Some(count), None),
            Err((stage, error)) => (stage, None, Some(failure(&error))),
        };
        ConnectionTestResult {
            ok: error.is_none(),
            stage,
            protocol: findings.protocol,
            server_version: findings.server_version,
            tested_at: Utc::now(),
            matching_orders,
            warnings: findings.warnings,
            error,
        }
    }
}

impl OdooProber {
    async fn run(&self, target: &ProbeTarget, findings: &mut Findings) -> StageResult<u64> {
        let settings = &target.settings;
        let server = OdooServer::connect(
            settings.url.as_str(),
            protocol(settings.protocol),
            &self.options,
        )
        .await
        .map_err(|error| (connect_stage(&error), error))?;
        findings.protocol = Some(resolved(server.protocol()));
        findings.server_version = Some(bounded(&server.version().text, MAX_VERSION_CHARS));

        find_database(&server, settings.database.as_str()).await?;
        let session = server
            .authenticate(
                settings.database.as_str(),
                settings.username.as_str(),
                target.api_key.clone(),
            )
            .await
            .map_err(authentication_failure)?;

        check_access(&session).await?;
        findings
            .warnings
            .extend(own_documents_warning(&session).await);
        let catalog = check_sync_fields(&session).await?;
        count_scope(&session, target, &catalog).await
    }
}

async fn find_database(server: &OdooServer, database: &str) -> StageResult<()> {
    match server.list_databases().await {
        Ok(Some(names)) if !names.iter().any(|name| name == database) => Err((
            TestStage::Database,
            OdooError::new(
                ErrorKind::DatabaseNotFound,
                "the server has no database of that name",
            ),
        )),
        Err(error) if error.is_transient() => Err((TestStage::Database, error)),
        _ => Ok(()),
    }
}

/// An unknown database shows itself at login: as psycopg2's "does not exist" fault on
/// legacy protocols, as a 404 page on JSON-2 (the client names both).
fn authentication_failure(error: OdooError) -> (TestStage, OdooError) {
    match error.kind() {
        ErrorKind::DatabaseNotFound => (TestStage::Database, error),
        _ => (TestStage::Authenticate, error),
    }
}

async fn check_access(session: &OdooSession) -> StageResult<()> {
    for model in ["sale.order", "sale.order.line"] {
        let readable = session
            .can_read(model)
            .await
            .map_err(|e| (TestStage::Access, e))?;
        if !readable {
            let message = format!("the user may not read {model}");
            return Err((
                TestStage::Access,
                OdooError::new(ErrorKind::PermissionDenied, message),
            ));
        }
    }
    Ok(())
}

/// A user limited to its own orders passes the access check, but a sync would silently
/// miss everyone else's orders. Servers that do not answer the group check get no warning.
async fn own_documents_warning(session: &OdooSession) -> Option<TestWarning> {
    match session.sales_scope().await {
        Ok(SalesScope::OwnDocumentsOnly) => Some(TestWarning {
            code: "OWN_DOCUMENTS_ONLY".to_owned(),
            message: "this Odoo user can read only its own sales orders; give it \"Sales / User: All Documents\" or a sync will miss everyone else's orders".to_owned(),
        }),
        Ok(_) => None,
        Err(error) => {
            tracing::debug!(code = error.code(), "sales group check unanswered");
            None
        }
    }
}

async fn check_sync_fields(session: &OdooSession) -> StageResult<odoo_client::FieldCatalog> {
    let version = session.version().clone();
    let lines = session
        .fields_get("sale.order.line", &FIELD_ATTRIBUTES)
        .await
        .map_err(|e| (TestStage::Fields, e))?;
    missing_fields(&lines, &line_fields(&version))?;
    let orders = session
        .fields_get("sale.order", &FIELD_ATTRIBUTES)
        .await
        .map_err(|e| (TestStage::Fields, e))?;
    missing_fields(&orders, &order_fields(&version))?;
    Ok(orders)
}

fn missing_fields(catalog: &odoo_client::FieldCatalog, wanted: &[&str]) -> StageResult<()> {
    let missing = catalog.missing(wanted);
    if missing.is_empty() {
        return Ok(());
    }
    let message = format!(
        "{} lacks fields the sync needs: {}",
        catalog.model(),
        missing.join(", ")
    );
    Err((
        TestStage::Fields,
        OdooError::new(ErrorKind::UnexpectedResponse, message),
    ))
}

async fn count_scope(
    session: &OdooSession,
    target: &ProbeTarget,
    catalog: &odoo_client::FieldCatalog,
) -> StageResult<u64> {
    let filter = match &target.settings.domain_filter {
        Some(text) => {
            Some(Domain::parse(text.as_str()).map_err(|e| (TestStage::Filter, e.into()))?)
        }
        None => None,
    };
    if let Some(filter) = &filter {
        check_fields_of(filter, catalog)?;
    }
    let scope = import_scope(
        session.version(),
        filter.as_ref(),
        target.settings.order_dates,
        target.time_zone.tz(),
    );
    session
        .search_count("sale.order", &scope)
        .await
        .map_err(|e| (TestStage::Filter, e))
}

fn check_fields_of(filter: &Domain, catalog: &odoo_client::FieldCatalog) -> StageResult<()> {
    check_filter_fields(filter, catalog).map_err(|e| (TestStage::Filter, e))
}

fn connect_stage(error: &OdooError) -> TestStage {
    match error.kind() {
        ErrorKind::UnsupportedVersion | ErrorKind::UnexpectedResponse => TestStage::Version,
        _ => TestStage::Reach,
    }
}

fn resolved(protocol: WireProtocol) -> ResolvedProtocol {
    match protocol {
        WireProtocol::Json2 => ResolvedProtocol::Json2,
        WireProtocol::JsonRpc => ResolvedProtocol::Jsonrpc,
        WireProtocol::XmlRpc => ResolvedProtocol::Xmlrpc,
    }
}

/// Longest server version kept: the server chooses it, and it is stored with the result.
const MAX_VERSION_CHARS: usize = 64;

fn failure(error: &OdooError) -> TestFailure {
    TestFailure {
        code: error.code().to_owned(),
        message: user_message(error),
        hint: Some(error.hint().to_owned()),
    }
}
