//! Pools and the embedded migrations.

use std::str::FromStr;
use std::time::Duration;

use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::PgPool;

/// The migrations in the repository's `migrations/` folder, embedded at build time.
pub static MIGRATOR: Migrator = sqlx::migrate!("../migrations");

/// Opens a pool of at most `max_connections` to `url`.
///
/// Every statement is planned for its own parameters (`plan_cache_mode`): the sync's tables
/// grow from empty within one run, and a plan cached while they were small (a sequential
/// scan) would otherwise stay in use, making each batch slower than the one before.
///
/// A session left idle inside a transaction for a minute is ended by the server
/// (`idle_in_transaction_session_timeout`): projections read only events older than the
/// server's oldest open transaction, so one forgotten transaction would stall them all.
pub async fn connect(url: &str, max_connections: u32) -> Result<PgPool, sqlx::Error> {
    let options = PgConnectOptions::from_str(url)?.options([
        ("plan_cache_mode", "force_custom_plan"),
        ("idle_in_transaction_session_timeout", "60s"),
    ]);
    PgPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(Duration::from_secs(10))
        .connect_with(options)
        .await
}

/// Applies every migration not yet applied. Safe to run from several processes at once:
/// sqlx takes an advisory lock while it migrates.
pub async fn migrate(pool: &PgPool) -> Result<(), sqlx::migrate::MigrateError> {
    MIGRATOR.run(pool).await
}
