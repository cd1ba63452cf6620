//! The sandbox's command line, shared by the `odoo-sandbox` binary and `prepsync sandbox`.

use std::net::SocketAddr;
use std::path::PathBuf;

use crate::{Dataset, Sandbox, SandboxConfig, UserKind};
use clap::Args;

/// Settings of a sandbox started from the command line.
#[derive(Debug, Clone, Args)]
pub struct SandboxArgs {
    /// The Odoo major version to behave like (13 to 19).
    #[arg(long = "odoo-version", default_value_t = 19)]
    pub odoo_version: u8,
    /// The address to listen on.
    #[arg(long, default_value = "127.0.0.1:8069")]
    pub listen: SocketAddr,
    /// A database name (repeat for several; the first holds the data).
    #[arg(long = "database", default_value = "prepstation")]
    pub databases: Vec<String>,
    /// How many orders to generate.
    #[arg(long, default_value_t = 200)]
    pub orders: usize,
    /// The generator seed.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Load the shared recorded data set of that version from this folder instead.
    #[arg(long)]
    pub dataset_dir: Option<PathBuf>,
    /// Keep the data in this folder: written on the first start, read back with the changes
    /// made since on the next ones, so rows and write dates survive restarts.
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
}

/// Starts a sandbox, prints its address and users, and serves until Ctrl-C.
pub async fn run(args: SandboxArgs) -> std::io::Result<()> {
    let dataset = match args.dataset_dir {
        Some(dir) => Dataset::Recorded { dir },
        None => Dataset::Generated {
            orders: args.orders,
            seed: args.seed,
        },
    };
    let mut config = SandboxConfig::new(args.odoo_version)
        .with_databases(args.databases)
        .with_dataset(dataset);
    if let Some(dir) = args.data_dir {
        config = config.with_data_dir(dir);
    }
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
