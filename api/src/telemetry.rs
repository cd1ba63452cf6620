//! Logs as JSON lines on standard output, filtered by `PREPSYNC_LOG` (default `info`).

use tracing_subscriber::EnvFilter;

/// Installs the JSON subscriber once for the process.
pub fn init() {
    let filter = EnvFilter::try_from_env("PREPSYNC_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_current_span(true)
        .with_span_list(false)
        .try_init();
}
