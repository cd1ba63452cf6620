//! Attempts per account and minute, counted in PostgreSQL so that every replica shares one
//! budget. Windows are fixed minutes; old windows are removed as new ones open.

use application::ports::{RateLimiter, StoreError};
use async_trait::async_trait;
use domain::ids::AccountId;
use sqlx::PgPool;

/// A [`RateLimiter`] allowing `per_minute` attempts of each action per account.
#[derive(Debug, Clone)]
pub struct PgRateLimiter {
    pool: PgPool,
    per_minute: u32,
}

impl PgRateLimiter {
    /// A limiter on this pool.
    pub fn new(pool: PgPool, per_minute: u32) -> Self {
        Self { pool, per_minute }
    }
}

#[async_trait]
impl RateLimiter for PgRateLimiter {
    async fn attempt(
        &self,
        account: &AccountId,
        action: &str,
    ) -> Result<Result<(), u64>, StoreError> {
        let (attempts, seconds_left): (i32, f64) = sqlx::query_as(
            "INSERT INTO rate_limit_windows (account_id, action, window_start, attempts)
             VALUES ($1, $2, date_trunc('minute', now()), 1)
             ON CONFLICT (account_id, action, window_start)
             DO UPDATE SET attempts = rate_limit_windows.attempts + 1
             RETURNING attempts,
                       extract(epoch FROM date_trunc('minute', now()) + interval '1 minute' - now())::float8",
        )
        .bind(account.as_str())
        .bind(action)
        .fetch_one(&self.pool)
        .await
        .map_err(|e| StoreError::Unavailable(e.into()))?;

        if attempts == 1 {
            self.forget_old_windows().await;
        }
        if u32::try_from(attempts).unwrap_or(u32::MAX) > self.per_minute {
            return Ok(Err(seconds_left.ceil().max(1.0) as u64));
        }
        Ok(Ok(()))
    }
}

impl PgRateLimiter {
    async fn forget_old_windows(&self) {
        let result = sqlx::query(
            "DELETE FROM rate_limit_windows WHERE window_start < now() - interval '10 minutes'",
        )
        .execute(&self.pool)
        .await;
        if let Err(error) = result {
            tracing::warn!(error = %error, "old rate-limit windows not removed");
        }
    }
}
