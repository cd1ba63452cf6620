//! The `prepsync` command line: serve, migrate, issue development tokens, rotate keys, print
//! the schema. The binary's `main` only calls [`main`].

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use crate::config::{DatabaseConfig, JwtConfig, KeyConfig, ServeConfig};
use crate::state::{key_ring, Ports};
use anyhow::Context;
use application::ports::CredentialVault;
use clap::{Parser, Subcommand};
use infrastructure::database;

/// PrepStation External Sync: turns a customer's Odoo sales orders into production demand.
///
/// Settings come from the environment; a `.env` file in the working directory (or the file
/// named by PREPSYNC_ENV_FILE) is read first. See .env.example.
#[derive(Debug, Parser)]
#[command(name = "prepsync", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run migrations, then serve GraphQL until SIGINT or SIGTERM.
    Serve(Box<ServeConfig>),
    /// Apply database migrations and exit.
    Migrate(DatabaseConfig),
    /// Print a development token signed with PREPSYNC_JWT_SECRET.
    Token {
        /// The account the token acts in.
        #[arg(long)]
        account: String,
        /// admin, member, planner or auditor.
        #[arg(long, default_value = "admin")]
        role: String,
        /// The user (the `sub` claim).
        #[arg(long, default_value = "developer")]
        sub: String,
        /// Hours until the token expires.
        #[arg(long, default_value_t = 24)]
        hours: u64,
        #[command(flatten)]
        jwt: JwtConfig,
    },
    /// Reseal every stored API key under the current master key.
    RotateKey {
        #[command(flatten)]
        database: DatabaseConfig,
        #[command(flatten)]
        keys: KeyConfig,
    },
    /// Rebuild one projection from the first event (safe while the service runs: its runners
    /// rebuild it; this command empties it and resets its checkpoint in one transaction).
    Replay {
        /// The projection, e.g. sales_records; a view's name (planning_demand) replays the
        /// projection it reads.
        projection: String,
        #[command(flatten)]
        database: DatabaseConfig,
    },
    /// Print the GraphQL schema (SDL).
    Schema,
    /// Run the Odoo-compatible sandbox (a fake Odoo for trying the service; demo builds only).
    #[cfg(feature = "demo")]
    Sandbox(odoo_sandbox::cli::SandboxArgs),
    /// Try everything on this machine: a private PostgreSQL, the Odoo sandbox, a connection,
    /// a sync and a summary, then serve GraphQL until Ctrl-C (demo builds only).
    #[cfg(feature = "demo")]
    Demo(crate::demo::DemoArgs),
}

/// Runs the command line and returns the process exit code.
pub fn main() -> ExitCode {
    if let Err(message) = load_env_file() {
        eprintln!("prepsync: {message}");
        return ExitCode::FAILURE;
    }
    let cli = Cli::parse();
    match &cli.command {
        #[cfg(feature = "demo")]
        Command::Demo(args) => crate::demo::init_logs(args),
        _ => crate::telemetry::init(),
    }

    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("prepsync: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli.command)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(error = format!("{error:#}"), "prepsync failed");
            eprintln!("prepsync: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// Reads `.env` when present, or the file `PREPSYNC_ENV_FILE` names, which must exist. Values
/// already in the environment win. A line that cannot be read is an error, not a silent stop.
fn load_env_file() -> Result<(), String> {
    let (path, required) = match std::env::var("PREPSYNC_ENV_FILE") {
        Ok(path) => (path, true),
        Err(_) => (".env".to_owned(), false),
    };
    match dotenvy::from_path(&path) {
        Ok(()) => Ok(()),
        Err(dotenvy::Error::Io(error))
            if !required && error.kind() == std::io::ErrorKind::NotFound =>
        {
            Ok(())
        }
        Err(error) => Err(format!("cannot read settings file {path}: {error}")),
    }
}

async fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Serve(config) => serve(*config).await,
        Command::Migrate(config) => {
            let pool = database::connect(&config.url, 2)
                .await
                .context("cannot reach the database")?;
            database::migrate(&pool).await.context("migration failed")?;
            println!("migrations applied");
            Ok(())
        }
        Command::Token {
            account,
            role,
            sub,
            hours,
            jwt,
        } => {
            let valid_for = Duration::from_secs(hours.saturating_mul(3600));
            println!(
                "{}",
                crate::auth::issue_token(&jwt, &account, &role, &sub, valid_for)?
            );
            Ok(())
        }
        Command::RotateKey {
            database: config,
            keys,
        } => rotate_key(config, keys).await,
        Command::Replay {
            projection: name,
            database: config,
        } => {
            let projection = projections::by_name(&name)?;
            let pool = database::connect(&config.url, 2)
                .await
                .context("cannot reach the database")?;
            database::migrate(&pool).await.context("migration failed")?;
            projections::replay(&pool, projection.as_ref()).await?;
            if projection.name() != name.as_str() {
                println!("{name} is a view over {}", projection.name());
            }
            println!(
                "{} reset; running services rebuild it from the first event",
                projection.name()
            );
            Ok(())
        }
        Command::Schema => {
            print!("{}", crate::graphql::sdl());
            Ok(())
        }
        #[cfg(feature = "demo")]
        Command::Sandbox(args) => Ok(odoo_sandbox::cli::run(args).await?),
        #[cfg(feature = "demo")]
        Command::Demo(args) => crate::demo::run(args).await,
    }
}

async fn serve(config: ServeConfig) -> anyhow::Result<()> {
    key_ring(&config.keys)?;
    crate::auth::TokenVerifier::from_config(&config.jwt)?;

    let pool = database::connect(&config.database.url, config.database.max_connections)
        .await
        .context("cannot reach the database")?;
    database::migrate(&pool).await.context("migration failed")?;
    let service = crate::state::service(pool, &config).await?;

    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    tracing::info!(address = %listener.local_addr()?, "serving");
    let served = crate::server::serve(
        listener,
        service.router.clone(),
        crate::server::shutdown_signal(),
    )
    .await;
    service.stop().await;
    served?;
    tracing::info!("stopped");
    Ok(())
}

async fn rotate_key(config: DatabaseConfig, keys: KeyConfig) -> anyhow::Result<()> {
    let pool = database::connect(&config.url, 2)
        .await
        .context("cannot reach the database")?;
    database::migrate(&pool).await.context("migration failed")?;
    let ring = key_ring(&keys)?;
    infrastructure::key_checks::ensure_keys_match(&pool, &ring).await?;
    let vault: Arc<dyn CredentialVault> = Arc::new(ring);
    let stale = infrastructure::sync_store::PgSyncStore::DEFAULT_STALE_AFTER;
    let ports = Ports::new(pool, vault, odoo_client::ClientOptions::default(), 0, stale);
    let store: Arc<dyn application::ports::AggregateStore<domain::connection::Connection>> =
        ports.connections.clone();
    let report =
        application::credentials::reseal_all(&store, &ports.directory, &ports.vault, &ports.clock)
            .await
            .context("rotation failed")?;
    println!(
        "resealed {} keys; {} already current",
        report.resealed, report.current
    );
    Ok(())
}
