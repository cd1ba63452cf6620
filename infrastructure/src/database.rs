//! Pools and the embedded migrations.

use std::str::FromStr;
use std::time::Duration;

use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Executor, PgConnection, PgPool};

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
///
/// Large values (an event's payload holds a whole order) are compressed with lz4 where the
/// server was built with it, see [`prefer_lz4`].
pub async fn connect(url: &str, max_connections: u32) -> Result<PgPool, sqlx::Error> {
    let options = PgConnectOptions::from_str(url)?.options([
        ("plan_cache_mode", "force_custom_plan"),
        ("idle_in_transaction_session_timeout", "60s"),
    ]);
    PgPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(Duration::from_secs(10))
        .after_connect(|connection, _| Box::pin(prefer_lz4(connection)))
        .connect_with(options)
        .await
}

/// Asks the session to compress large values with lz4 rather than PostgreSQL's default
/// pglz: storing a page of order events costs about a third less, for 4 % more space, and
/// readers decompress either. A server without lz4 (or older than 14) keeps its default.
async fn prefer_lz4(connection: &mut PgConnection) -> Result<(), sqlx::Error> {
    if let Err(error) = connection
        .execute("SET default_toast_compression = 'lz4'")
        .await
    {
        tracing::debug!(error = %error, "lz4 compression unavailable, the server's default stays");
    }
    Ok(())
}

/// Applies every migration not yet applied. Safe to run from several processes at once:
/// sqlx takes an advisory lock while it migrates.
pub async fn migrate(pool: &PgPool) -> Result<(), sqlx::migrate::MigrateError> {
    MIGRATOR.run(pool).await
}
