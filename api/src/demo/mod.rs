//! `prepsync demo`: the whole product on this machine with one command and no configuration.
//! It starts the Odoo sandbox (in-process, with generated orders kept in the data directory),
//! a private PostgreSQL cluster (or uses `DATABASE_URL`), the service with generated keys, then
//! walks through what an admin would do over GraphQL (connection, test, sync, mapping), prints
//! a summary, and keeps serving until Ctrl-C or SIGTERM. A second run reuses everything and
//! syncs incrementally.
//!
//! - [`files`]: the data directory and what it keeps between runs;
//! - [`cluster`]: the private PostgreSQL cluster;
//! - [`walkthrough`]: the steps taken through the GraphQL API;
//! - [`summary`]: the figures printed once the data is in;
//! - [`progress`]: the lines printed while it works.

pub mod cluster;
pub mod files;
pub mod progress;
pub mod summary;
pub mod walkthrough;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::{Args, Parser};
use odoo_sandbox::{Dataset, Sandbox, SandboxConfig, UserKind};
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::watch;

use self::cluster::{Cluster, Start};
use self::files::{DataDir, DemoState};
use self::progress::Progress;
use self::walkthrough::{Api, Mapping, SandboxConnection};
use crate::config::ServeConfig;

/// The Odoo sandbox's port on a first run, unless `PREPSYNC_DEMO_ODOO_PORT` says otherwise.
pub const DEFAULT_ODOO_PORT: u16 = 18069;
/// The Odoo version the sandbox behaves like.
pub const ODOO_VERSION: u8 = 18;
/// How many orders the sandbox generates (deterministic, from [`SEED`]).
pub const ORDERS: usize = 300;
/// The generator seed of the sandbox's orders.
pub const SEED: u64 = 1;
/// The account the demo works in.
pub const ACCOUNT: &str = "demo-kitchen";
/// The user (`sub`) of the demo's admin token.
pub const ADMIN: &str = "demo-admin";
/// How long the printed token is valid.
pub const TOKEN_LIFETIME: Duration = Duration::from_secs(30 * 24 * 3600);
/// The log file in the data directory.
pub const LOG_FILE: &str = "prepsync.log";
/// Seconds a sync run may stay silent before it counts as interrupted, unless
/// `PREPSYNC_SYNC_STALE_SECONDS` is set: short, so that a run left by a killed demo is closed
/// soon after the next start.
pub const STALE_SECONDS: u32 = 30;

/// Settings of `prepsync demo`. Everything else (`PREPSYNC_LISTEN`, the Odoo timeouts, ...)
/// comes from the same environment variables as `prepsync serve`.
#[derive(Debug, Clone, Args)]
pub struct DemoArgs {
    /// Where the demo keeps its database cluster, keys, sandbox data and log.
    #[arg(
        long = "data-dir",
        env = "PREPSYNC_DATA_DIR",
        default_value = ".prepsync"
    )]
    pub data_dir: PathBuf,
    /// Use this PostgreSQL database instead of starting a private cluster.
    #[arg(long = "database-url", env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<SecretString>,
    /// The folder holding PostgreSQL's initdb and pg_ctl (default: the newest
    /// /usr/lib/postgresql/*/bin, else PATH).
    #[arg(long = "postgres-bin", env = "PREPSYNC_POSTGRES_BIN")]
    pub postgres_bin: Option<PathBuf>,
    /// The Odoo sandbox's port on the first run; later runs keep the port they started with,
    /// since it is part of the demo connection's URL.
    #[arg(long = "odoo-port", env = "PREPSYNC_DEMO_ODOO_PORT")]
    pub odoo_port: Option<u16>,
}

/// Why the demo stopped.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    /// Another run uses the data directory.
    #[error(
        "another `prepsync demo` is using {data_dir}: stop it (Ctrl-C where it runs), or use \
         another PREPSYNC_DATA_DIR"
    )]
    DataDirInUse {
        /// The data directory.
        data_dir: String,
    },
    /// The sandbox's port is in use.
    #[error(
        "port {port} of 127.0.0.1 is taken; the demo's Odoo sandbox must listen there, since \
         its URL is the demo connection's URL. Stop what uses it (another `prepsync demo` on \
         {data_dir}?), or start afresh with another PREPSYNC_DATA_DIR"
    )]
    OdooPortTaken {
        /// The port.
        port: u16,
        /// The data directory.
        data_dir: String,
    },
    /// `PREPSYNC_DEMO_ODOO_PORT` differs from the port the data directory's connection uses.
    #[error(
        "PREPSYNC_DEMO_ODOO_PORT is {asked}, but the demo connection of {data_dir} uses port \
         {kept}: unset it, or use another PREPSYNC_DATA_DIR"
    )]
    OdooPortChanged {
        /// The port asked for.
        asked: u16,
        /// The port kept.
        kept: u16,
        /// The data directory.
        data_dir: String,
    },
    /// The service's address is in use.
    #[error("cannot listen on {address}: {source}; set PREPSYNC_LISTEN to a free address")]
    Listen {
        /// The address.
        address: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
}

/// Where the demo's data goes.
enum Database {
    /// `DATABASE_URL`.
    Given(SecretString),
    /// A private cluster run from the PostgreSQL binaries in this folder.
    Private(PathBuf),
}

/// Sends the demo's logs (JSON lines, filtered by `PREPSYNC_LOG`) to `prepsync.log` in the
/// data directory, leaving the terminal to the progress lines; to standard error when that
/// file cannot be opened.
pub fn init_logs(args: &DemoArgs) {
    let file = std::fs::create_dir_all(&args.data_dir).and_then(|()| {
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(args.data_dir.join(LOG_FILE))
    });
    let Ok(file) = file else {
        crate::telemetry::init();
        return;
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("PREPSYNC_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx::postgres::notice=warn"));
    let _ = tracing_subscriber::fmt()
        .json()
        .with_writer(std::sync::Mutex::new(file))
        .with_env_filter(filter)
        .with_current_span(true)
        .with_span_list(false)
        .try_init();
}

/// Runs the demo until SIGINT or SIGTERM.
pub async fn run(args: DemoArgs) -> anyhow::Result<()> {
    let stop = stop_signal();
    let data = DataDir::open(&args.data_dir)
        .with_context(|| format!("cannot use the data directory {}", args.data_dir.display()))?;
    let _held = data
        .lock()
        .with_context(|| format!("cannot lock the data directory {}", data.path().display()))?
        .ok_or_else(|| DemoError::DataDirInUse {
            data_dir: data.path().display().to_string(),
        })?;
    let mut state = data.state()?;
    let database = match args.database_url {
        Some(url) => Database::Given(url),
        None => Database::Private(cluster::find_binaries(args.postgres_bin.as_deref())?),
    };
    let progress = Progress::new(7);
    progress.say(&format!("prepsync demo, data in {}", data.path().display()));

    progress.step("Odoo sandbox");
    let sandbox = start_sandbox(&data, &mut state, args.odoo_port).await?;
    data.save_state(&state)?;
    progress.detail(&format!(
        "Odoo {ODOO_VERSION}.0 at {}, database {}, {ORDERS} generated orders kept in {}",
        sandbox.url(),
        sandbox.database(),
        data.path().join("odoo").display()
    ));

    progress.step("PostgreSQL");
    let (url, cluster) = match database {
        Database::Given(url) => {
            progress.detail("using DATABASE_URL");
            (url, None)
        }
        Database::Private(binaries) => {
            let cluster = Cluster::start(&data, &mut state, binaries).await?;
            data.save_state(&state)?;
            describe_cluster(&progress, &cluster, &data);
            (cluster.url(), Some(cluster))
        }
    };

    let outcome = serve(&data, &url, &sandbox, &progress, stop).await;
    if let Some(cluster) = cluster {
        match cluster.stop().await {
            Ok(()) => progress.say("PostgreSQL stopped"),
            Err(error) => progress.say(&format!("PostgreSQL did not stop cleanly: {error}")),
        }
    }
    sandbox.shutdown().await;
    outcome
}

fn describe_cluster(progress: &Progress, cluster: &Cluster, data: &DataDir) {
    let how = match cluster.how_started() {
        Start::Created => "created and started",
        Start::Started => "started",
        Start::Adopted => "already running, reused",
    };
    progress.detail(&format!(
        "private cluster {how} on 127.0.0.1:{}, files in {}",
        cluster.port(),
        cluster.dir().display()
    ));
    if !cluster.runs_as_postgres() {
        return;
    }
    progress.detail(
        "it runs as the `postgres` system user (PostgreSQL refuses root), so its files belong \
         to that user",
    );
    if !cluster.dir().starts_with(data.path()) {
        progress.detail(&format!(
            "that user cannot write in {}, so the files are in its home; remove them too \
             when you remove the data directory",
            data.path().display()
        ));
    }
}

/// Starts the sandbox on the port the data directory's connection uses (or the first run's).
async fn start_sandbox(
    data: &DataDir,
    state: &mut DemoState,
    asked: Option<u16>,
) -> anyhow::Result<Sandbox> {
    let data_dir = data.path().display().to_string();
    let port = match (state.odoo_port, asked) {
        (Some(kept), Some(asked)) if kept != asked => {
            return Err(DemoError::OdooPortChanged {
                asked,
                kept,
                data_dir,
            }
            .into())
        }
        (Some(kept), _) => kept,
        (None, asked) => asked.unwrap_or(DEFAULT_ODOO_PORT),
    };
    let config = SandboxConfig::new(ODOO_VERSION)
        .with_dataset(Dataset::Generated {
            orders: ORDERS,
            seed: SEED,
        })
        .with_data_dir(data.path().join("odoo"));
    let address = SocketAddr::from(([127, 0, 0, 1], port));
    let sandbox = Sandbox::start_on(config, address)
        .await
        .map_err(|error| match error.kind() {
            std::io::ErrorKind::AddrInUse => DemoError::OdooPortTaken { port, data_dir }.into(),
            _ => anyhow::Error::new(error).context("the Odoo sandbox cannot start"),
        })?;
    state.odoo_port = Some(port);
    Ok(sandbox)
}

/// The service as `serve` runs it, listening, with the demo's admin token.
struct Service {
    api: Api,
    token: String,
    address: SocketAddr,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
}

/// Migrates, serves, walks through the product and keeps serving until `stop`.
async fn serve(
    data: &DataDir,
    url: &SecretString,
    sandbox: &Sandbox,
    progress: &Progress,
    stop: watch::Receiver<bool>,
) -> anyhow::Result<()> {
    progress.step("Database");
    let service = start_service(data, url, stop.clone()).await?;
    progress.detail(&format!(
        "migrated; master key and token secret in {}",
        data.path().display()
    ));

    let walked = tokio::select! {
        walked = walk_through(&service.api, sandbox, progress) => walked,
        () = stopped(stop.clone()) => {
            service.api.cancel_current_run().await;
            Ok(())
        }
    };
    if let Err(error) = walked {
        service.server.abort();
        return Err(error);
    }
    if !*stop.borrow() {
        print_serving(progress, service.address, &service.token, data);
    }

    service.server.await??;
    progress.say("stopped");
    Ok(())
}

/// Migrates the database and starts serving on `PREPSYNC_LISTEN` until `stop`.
async fn start_service(
    data: &DataDir,
    url: &SecretString,
    stop: watch::Receiver<bool>,
) -> anyhow::Result<Service> {
    let config = serve_config(data, url)?;
    let pool = infrastructure::database::connect(url.expose_secret(), 5)
        .await
        .context("cannot reach the database")?;
    infrastructure::database::migrate(&pool)
        .await
        .context("migration failed")?;
    let router = crate::state::app(pool, &config).await?;

    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|source| DemoError::Listen {
            address: config.listen,
            source,
        })?;
    let address = listener.local_addr()?;
    let server = crate::server::serve(listener, router.clone(), stopped(stop));
    let token = crate::auth::issue_token(&config.jwt, ACCOUNT, "admin", ADMIN, TOKEN_LIFETIME)?;
    Ok(Service {
        api: Api::new(router, token.clone()),
        token,
        address,
        server: tokio::spawn(server),
    })
}

/// What an admin would do: set up the account, connect the sandbox, test, sync, map products;
/// then the summary.
async fn walk_through(api: &Api, sandbox: &Sandbox, progress: &Progress) -> anyhow::Result<()> {
    progress.step("Account and connection");
    if walkthrough::set_up_account(api).await? {
        progress.detail(&format!(
            "account {ACCOUNT} set up (time zone {})",
            walkthrough::TIME_ZONE
        ));
    }
    let target = sandbox_connection(sandbox);
    let (connection, created) = walkthrough::find_or_create_connection(api, &target).await?;
    let how = if created { "created" } else { "reused" };
    progress.detail(&format!(
        "connection \"{}\" {how} ({connection})",
        target.name
    ));
    let test = walkthrough::test_connection(api, &connection).await?;
    progress.detail(&format!(
        "Test Connection passed: Odoo {} over {}, {} orders in scope",
        test.server_version, test.protocol, test.matching_orders
    ));

    progress.step("Sync");
    let run = walkthrough::sync(api, &connection, progress).await?;

    progress.step("Product mapping");
    match walkthrough::map_products(api, &connection).await? {
        Mapping::Kept { items } => {
            progress.detail(&format!(
                "{items} items made on an earlier run; mappings kept"
            ));
        }
        Mapping::Made { by_sku, by_hand } => {
            progress.detail(&format!(
                "items with the product's internal reference as SKU, mapped automatically: {}",
                by_sku.join(", ")
            ));
            progress.detail(&format!(
                "mapped by hand (mapProduct): {}",
                by_hand.join(", ")
            ));
        }
    }

    progress.step("Summary");
    for line in summary::summary(api, &connection, &run).await? {
        progress.detail(&line);
    }
    Ok(())
}

fn print_serving(progress: &Progress, address: SocketAddr, token: &str, data: &DataDir) {
    progress.say("");
    progress.say(&format!(
        "serving GraphQL at http://{address}/graphql (GraphiQL: open it in a browser)"
    ));
    progress.say(&format!(
        "token (admin of account {ACCOUNT}; in GraphiQL's Headers tab as \
         {{\"Authorization\": \"Bearer <token>\"}}):"
    ));
    progress.say(token);
    progress.say(&format!(
        "logs: {}; Ctrl-C stops (PostgreSQL too)",
        data.path().join(LOG_FILE).display()
    ));
}

/// The settings `prepsync serve` would read, with the demo's database, keys and sandbox
/// policy given explicitly: every other setting still comes from the environment.
fn serve_config(data: &DataDir, url: &SecretString) -> anyhow::Result<ServeConfig> {
    let master_key = data.secret("master.key", || {
        infrastructure::vault::KeyRing::generate_key()
            .expose_secret()
            .to_owned()
    })?;
    let jwt_secret = data.secret("jwt.secret", cluster::random_secret)?;
    let mut args: Vec<String> = [
        "prepsync-demo",
        "--database-url",
        url.expose_secret(),
        "--master-key",
        master_key.expose_secret(),
        "--master-key-id",
        "k1",
        "--jwt-secret",
        jwt_secret.expose_secret(),
        "--allow-insecure-http",
        "--allow-private-networks",
    ]
    .map(str::to_owned)
    .into();
    if std::env::var_os("PREPSYNC_SYNC_STALE_SECONDS").is_none() {
        args.extend(["--sync-stale-seconds".into(), STALE_SECONDS.to_string()]);
    }
    Ok(ServeSettings::try_parse_from(args)?.config)
}

/// `prepsync serve`'s settings, parsed on their own.
#[derive(Debug, Parser)]
struct ServeSettings {
    #[command(flatten)]
    config: ServeConfig,
}

/// Becomes `true` on SIGINT or SIGTERM.
fn stop_signal() -> watch::Receiver<bool> {
    let (sender, receiver) = watch::channel(false);
    tokio::spawn(async move {
        crate::server::shutdown_signal().await;
        let _ = sender.send(true);
    });
    receiver
}

/// Completes once `stop` is `true`.
async fn stopped(mut stop: watch::Receiver<bool>) {
    let _ = stop.wait_for(|stopped| *stopped).await;
}

/// The sandbox's demo connection (its sales user's key).
fn sandbox_connection(sandbox: &Sandbox) -> SandboxConnection {
    let user = sandbox.user(UserKind::SalesAll);
    SandboxConnection {
        name: "Odoo sandbox".into(),
        url: sandbox.url(),
        database: sandbox.database().to_owned(),
        username: user.login,
        api_key: user.api_key,
    }
}
