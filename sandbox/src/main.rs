//! `odoo-sandbox`: runs the Odoo-compatible sandbox server until interrupted.

use clap::Parser;
use odoo_sandbox::cli::SandboxArgs;

/// An in-memory server that behaves like Odoo for a read-only sync client (tests and demos).
#[derive(Debug, Parser)]
#[command(name = "odoo-sandbox")]
struct Cli {
    #[command(flatten)]
    args: SandboxArgs,
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .init();
    odoo_sandbox::cli::run(Cli::parse().args).await
}
