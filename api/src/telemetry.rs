//! Logs as JSON lines on standard error, filtered by `PREPSYNC_LOG` (default `info`, with
//! PostgreSQL's notices from sqlx at `warn`). Standard output is left to command results.

use tracing_subscriber::EnvFilter;

/// Installs the JSON subscriber once for the process.
pub fn init() {
    let filter = EnvFilter::try_from_env("PREPSYNC_LOG")
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx::postgres::notice=warn"));
    let _ = tracing_subscriber::fmt()
        .json()
        .with_writer(std::io::stderr)
        .with_env_filter(filter)
        .with_current_span(true)
        .with_span_list(false)
        .try_init();
}
