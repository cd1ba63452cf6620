//! `odoo-sandbox`: runs the Odoo-compatible sandbox server until interrupted.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Parser;
use odoo_sandbox::{Dataset, Sandbox, SandboxConfig, UserKind};

/// An in-memory server that behaves like Odoo for a read-only sync client (tests and demos).
#[derive(Debug, Parser)]
#[command(name = "odoo-sandbox")]
struct Args {
    /// The Odoo major version to behave like (13 to 19).
    #[arg(long = "odoo-version", default_value_t = 19)]
    odoo_version: u8,
    /// The address to listen on.
    #[arg(long, default_value = "127.0.0.1:8069")]
    listen: SocketAddr,
    /// A database name (repeat for several; the first holds the data).
    #[arg(long = "database", default_value = "prepstation")]
    databases: Vec<String>,
    /// How many orders to generate.
    #[arg(long, default_value_t = 200)]
    orders: usize,
    /// The generator seed.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Load the shared recorded data set of that version from this folder instead.
    #[arg(long)]
    dataset_dir: Option<PathBuf>,
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .init();
    let args = Args::parse();
    let dataset = match args.dataset_dir {
        Some(dir) => Dataset::Recorded { dir },
        None => Dataset::Generated {
            orders: args.orders,
            seed: args.seed,
        },
    };
    let config = SandboxConfig::new(args.odoo_version)
        .with_databases(args.databases)
        .with_dataset(dataset);
    let sandbox = Sandbox::start_on(config, args.listen).await?;

    println!(
        "odoo sandbox {}.0 at {} (database {})",
        args.odoo_version,
        sandbox.url(),
        sandbox.database()
    );
    for kind in [
        UserKind::SalesAll,
        UserKind::OwnDocumentsOnly,
        UserKind::NoSalesAccess,
        UserKind::Admin,
    ] {
        let user = sandbox.user(kind);
        println!(
            "  {:?}: uid {} login {} password {} api key {}",
            kind, user.uid, user.login, user.password, user.api_key
        );
    }
    tokio::signal::ctrl_c().await?;
    sandbox.shutdown().await;
    Ok(())
}
