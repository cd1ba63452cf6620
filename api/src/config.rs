//! Settings read from the environment (and an optional `.env` file loaded before parsing).
//! Every variable is documented in `.env.example`.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::builder::BoolishValueParser;
use clap::Args;
use secrecy::SecretString;

/// Where the database is.
#[derive(Debug, Clone, Args)]
pub struct DatabaseConfig {
    /// PostgreSQL connection URL.
    #[arg(long = "database-url", env = "DATABASE_URL", hide_env_values = true)]
    pub url: String,
    /// Largest number of pooled database connections.
    #[arg(
        long = "db-max-connections",
        env = "PREPSYNC_DB_MAX_CONNECTIONS",
        default_value_t = 10
    )]
    pub max_connections: u32,
}

/// The master keys that seal credentials.
#[derive(Debug, Clone, Args)]
pub struct KeyConfig {
    /// The current master key: 32 bytes, base64.
    #[arg(
        long = "master-key",
        env = "PREPSYNC_MASTER_KEY",
        hide_env_values = true
    )]
    pub master_key: Option<SecretString>,
    /// A file holding the current master key (instead of PREPSYNC_MASTER_KEY).
    #[arg(long = "master-key-file", env = "PREPSYNC_MASTER_KEY_FILE")]
    pub master_key_file: Option<PathBuf>,
    /// The current master key's id, recorded with everything it seals.
    #[arg(
        long = "master-key-id",
        env = "PREPSYNC_MASTER_KEY_ID",
        default_value = "k1"
    )]
    pub master_key_id: String,
    /// Older keys still accepted for opening: `id:base64,id:base64`.
    #[arg(
        long = "old-master-keys",
        env = "PREPSYNC_OLD_MASTER_KEYS",
        hide_env_values = true
    )]
    pub old_master_keys: Option<SecretString>,
}

/// How bearer tokens are checked.
#[derive(Debug, Clone, Args)]
pub struct JwtConfig {
    /// HS256 shared secret (at least 32 characters).
    #[arg(
        long = "jwt-secret",
        env = "PREPSYNC_JWT_SECRET",
        hide_env_values = true
    )]
    pub secret: Option<SecretString>,
    /// RS256, ES256 or EdDSA public key in PEM (the text itself, or a path to it).
    #[arg(long = "jwt-public-key", env = "PREPSYNC_JWT_PUBLIC_KEY")]
    pub public_key: Option<String>,
    /// Required `iss` claim, if set.
    #[arg(long = "jwt-issuer", env = "PREPSYNC_JWT_ISSUER")]
    pub issuer: Option<String>,
    /// Required `aud` claim, if set.
    #[arg(long = "jwt-audience", env = "PREPSYNC_JWT_AUDIENCE")]
    pub audience: Option<String>,
}

/// What connection URLs may point at, and how often schedules may run.
#[derive(Debug, Clone, Args)]
pub struct PolicyConfig {
    /// Accept plain http:// Odoo URLs (development and tests only).
    #[arg(long = "allow-insecure-http", env = "PREPSYNC_ALLOW_INSECURE_HTTP", value_parser = BoolishValueParser::new(), default_value = "false")]
    pub allow_insecure_http: bool,
    /// Accept Odoo URLs on loopback, private and link-local addresses.
    #[arg(long = "allow-private-networks", env = "PREPSYNC_ALLOW_PRIVATE_NETWORKS", value_parser = BoolishValueParser::new(), default_value = "false")]
    pub allow_private_networks: bool,
    /// The shortest schedule interval a connection may have, in seconds (1 to seven days).
    #[arg(
        long = "min-interval-seconds",
        env = "PREPSYNC_MIN_INTERVAL_SECONDS",
        default_value_t = 60,
        value_parser = clap::value_parser!(u32)
            .range(1..=i64::from(domain::connection::SyncInterval::MAX_SECONDS))
    )]
    pub min_interval_seconds: u32,
}

/// How the service talks to Odoo servers.
#[derive(Debug, Clone, Args)]
pub struct OdooConfig {
    /// Time allowed to open a connection to an Odoo server, in milliseconds.
    #[arg(
        long = "odoo-connect-timeout-ms",
        env = "PREPSYNC_ODOO_CONNECT_TIMEOUT_MS",
        default_value_t = 10_000
    )]
    pub connect_timeout_ms: u64,
    /// Time allowed for one Odoo request, answer included, in milliseconds.
    #[arg(
        long = "odoo-request-timeout-ms",
        env = "PREPSYNC_ODOO_REQUEST_TIMEOUT_MS",
        default_value_t = 60_000
    )]
    pub request_timeout_ms: u64,
    /// Attempts of a request that failed transiently (timeout, network, 429, 502-504).
    #[arg(
        long = "odoo-retry-attempts",
        env = "PREPSYNC_ODOO_RETRY_ATTEMPTS",
        default_value_t = 4
    )]
    pub retry_attempts: usize,
    /// First delay between attempts, in milliseconds (doubles, with jitter).
    #[arg(
        long = "odoo-retry-min-delay-ms",
        env = "PREPSYNC_ODOO_RETRY_MIN_DELAY_MS",
        default_value_t = 500
    )]
    pub retry_min_delay_ms: u64,
    /// Longest delay between attempts, in milliseconds (Retry-After included).
    #[arg(
        long = "odoo-retry-max-delay-ms",
        env = "PREPSYNC_ODOO_RETRY_MAX_DELAY_MS",
        default_value_t = 30_000
    )]
    pub retry_max_delay_ms: u64,
    /// Longest total time spent waiting between attempts of one request, in milliseconds.
    #[arg(
        long = "odoo-retry-total-ms",
        env = "PREPSYNC_ODOO_RETRY_TOTAL_MS",
        default_value_t = 60_000
    )]
    pub retry_total_ms: u64,
    /// Seconds re-read before a source's cursor at the start of each run, to catch writes that
    /// committed late; longer than the Odoo server's longest transaction.
    #[arg(
        long = "sync-lookback-seconds",
        env = "PREPSYNC_SYNC_LOOKBACK_SECONDS",
        default_value_t = 600
    )]
    pub sync_lookback_seconds: u32,
    /// Seconds between checks of the held orders against Odoo for deletions (every full
    /// re-sync checks too).
    #[arg(
        long = "reconcile-interval-seconds",
        env = "PREPSYNC_RECONCILE_INTERVAL_SECONDS",
        default_value_t = 86_400
    )]
    pub reconcile_interval_seconds: u32,
    /// Seconds a sync run may go without recording progress before the next Sync Now closes it
    /// as interrupted (its process died) and starts anew from the last committed batch.
    #[arg(
        long = "sync-stale-seconds",
        env = "PREPSYNC_SYNC_STALE_SECONDS",
        default_value_t = 900
    )]
    pub sync_stale_seconds: u32,
    /// Milliseconds a projection runner waits before looking for new events once caught up.
    #[arg(
        long = "projection-poll-ms",
        env = "PREPSYNC_PROJECTION_POLL_MS",
        default_value_t = 500
    )]
    pub projection_poll_ms: u64,
    /// Connection tests each account may run per minute.
    #[arg(
        long = "test-connection-per-minute",
        env = "PREPSYNC_TEST_CONNECTION_PER_MINUTE",
        default_value_t = 10
    )]
    pub test_connection_per_minute: u32,
}

/// How the scheduler runs. Scheduled runs hold leases of `PREPSYNC_SYNC_STALE_SECONDS`,
/// renewed every third of that, and so do claims of due slots.
#[derive(Debug, Clone, Args)]
pub struct SchedulerConfig {
    /// Milliseconds between looks for due schedules (a run's end also prompts one).
    #[arg(
        long = "scheduler-tick-ms",
        env = "PREPSYNC_SCHEDULER_TICK_MS",
        default_value_t = 1_000
    )]
    pub tick_ms: u64,
    /// Longest delay, in seconds, that a failing connection's schedule backs off to (never
    /// less than its interval).
    #[arg(
        long = "scheduler-max-backoff-seconds",
        env = "PREPSYNC_SCHEDULER_MAX_BACKOFF_SECONDS",
        default_value_t = 21_600
    )]
    pub max_backoff_seconds: u32,
}

/// Everything `prepsync serve` needs.
#[derive(Debug, Clone, Args)]
pub struct ServeConfig {
    /// Address and port to listen on.
    #[arg(long, env = "PREPSYNC_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Largest accepted request body, in bytes.
    #[arg(
        long = "max-body-bytes",
        env = "PREPSYNC_MAX_BODY_BYTES",
        default_value_t = 262_144
    )]
    pub max_body_bytes: usize,
    #[command(flatten)]
    pub database: DatabaseConfig,
    #[command(flatten)]
    pub keys: KeyConfig,
    #[command(flatten)]
    pub jwt: JwtConfig,
    #[command(flatten)]
    pub policy: PolicyConfig,
    #[command(flatten)]
    pub odoo: OdooConfig,
    #[command(flatten)]
    pub scheduler: SchedulerConfig,
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use clap::Parser;

    use super::*;

    #[derive(Debug, Parser)]
    struct Policy {
        #[command(flatten)]
        policy: PolicyConfig,
    }

    fn parse(minimum: &str) -> Result<Policy, clap::Error> {
        Policy::try_parse_from(["prepsync", "--min-interval-seconds", minimum])
    }

    #[test]
    fn a_minimum_interval_of_zero_or_beyond_seven_days_is_refused_naming_the_setting() {
        for refused in ["0", "604801"] {
            let error = parse(refused).unwrap_err().to_string();
            assert!(error.contains("--min-interval-seconds"), "{error}");
        }
        assert_eq!(parse("1").unwrap().policy.min_interval_seconds, 1);
        assert_eq!(
            parse("604800").unwrap().policy.min_interval_seconds,
            604_800
        );
    }
}
