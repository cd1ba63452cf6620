//! Retries of transient failures: exponential backoff with jitter, `Retry-After` honoured,
//! bounded in attempts and in total waiting time.
//!
//! Only [`OdooError::is_transient`] failures are retried (network, timeout, 429, 502–504);
//! an authentication failure never is, because Odoo locks a login out after repeated
//! failures.

use std::future::Future;
use std::time::{Duration, Instant};

use backon::{ExponentialBuilder, Retryable};

use crate::error::OdooError;

/// How often and how long to retry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in total, the first included (1 = no retry).
    pub max_attempts: usize,
    /// Delay before the first retry.
    pub min_delay: Duration,
    /// Longest delay between two attempts (a longer `Retry-After` ends the retries).
    pub max_delay: Duration,
    /// Longest total time spent waiting between attempts.
    pub max_total_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 4,
            min_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(30),
            max_total_delay: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// A single attempt.
    pub fn never() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 1,
            ..RetryPolicy::default()
        }
    }

    fn backoff(&self) -> ExponentialBuilder {
        ExponentialBuilder::default()
            .with_min_delay(self.min_delay)
            .with_max_delay(self.max_delay)
            .with_max_times(self.max_attempts.saturating_sub(1))
            .with_total_delay(Some(self.max_total_delay))
            .with_jitter()
    }

    /// Runs `attempt` until it succeeds, fails for good, or the policy is exhausted.
    pub async fn run<T, F, Fut>(&self, attempt: F) -> Result<T, OdooError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, OdooError>>,
    {
        let mut waited = Duration::ZERO;
        let started = Instant::now();
        let policy = *self;

        attempt
            .retry(self.backoff())
            .when(OdooError::is_transient)
            .adjust(move |error, planned| {
                let next = next_delay(&policy, error, planned?)?;
                waited += next;
                (waited <= policy.max_total_delay).then_some(next)
            })
            .notify(move |error, delay| {
                tracing::debug!(
                    code = error.code(),
                    delay_ms = delay.as_millis() as u64,
                    elapsed_ms = started.elapsed().as_millis() as u64,
                    "retrying odoo call"
                );
            })
            .await
    }
}

/// The planned backoff, or the server's `Retry-After` when it asked for one; `None` (give
/// up) when the server asks for more than `max_delay`.
fn next_delay(policy: &RetryPolicy, error: &OdooError, planned: Duration) -> Option<Duration> {
    match error.retry_after() {
        Some(asked) if asked > policy.max_delay => None,
        Some(asked) => Some(asked.max(planned.min(policy.max_delay))),
        None => Some(planned),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;
    use crate::error::ErrorKind;

    fn fast(attempts: usize) -> RetryPolicy {
        RetryPolicy {
            max_attempts: attempts,
            min_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(20),
            max_total_delay: Duration::from_millis(100),
        }
    }

    async fn count_attempts(policy: RetryPolicy, error: OdooError) -> usize {
        let calls = AtomicUsize::new(0);
        let result: Result<(), _> = policy
            .run(|| {
                calls.fetch_add(1, Ordering::SeqCst);
                let error = error.clone();
                async move { Err(error) }
            })
            .await;
        assert!(result.is_err());
        calls.load(Ordering::SeqCst)
    }

    #[tokio::test]
    async fn a_timeout_is_retried_up_to_the_attempt_limit() {
        let attempts = count_attempts(fast(3), OdooError::new(ErrorKind::Timeout, "t")).await;

        assert_eq!(attempts, 3);
    }

    #[tokio::test]
    async fn an_authentication_failure_is_never_retried() {
        let error = OdooError::new(ErrorKind::AuthenticationFailed, "no");

        assert_eq!(count_attempts(fast(5), error).await, 1);
    }

    #[tokio::test]
    async fn a_plain_server_error_is_not_retried_but_a_gateway_error_is() {
        let plain = OdooError::new(ErrorKind::ServerError, "500");
        let gateway = OdooError::new(ErrorKind::ServerError, "503").transient();

        assert_eq!(count_attempts(fast(3), plain).await, 1);
        assert_eq!(count_attempts(fast(3), gateway).await, 3);
    }

    #[tokio::test]
    async fn a_retry_after_longer_than_the_longest_delay_ends_the_retries() {
        let error = OdooError::new(ErrorKind::RateLimited, "429")
            .with_retry_after(Some(Duration::from_secs(120)));

        assert_eq!(count_attempts(fast(5), error).await, 1);
    }

    #[tokio::test]
    async fn a_short_retry_after_is_waited_for() {
        let error = OdooError::new(ErrorKind::RateLimited, "429")
            .with_retry_after(Some(Duration::from_millis(15)));
        let started = Instant::now();

        assert_eq!(count_attempts(fast(3), error).await, 3);
        assert!(started.elapsed() >= Duration::from_millis(30));
    }

    #[tokio::test]
    async fn the_total_waiting_time_is_bounded() {
        let mut policy = fast(1000);
        policy.max_total_delay = Duration::from_millis(30);
        let started = Instant::now();

        count_attempts(policy, OdooError::new(ErrorKind::Network, "refused")).await;

        assert!(started.elapsed() < Duration::from_millis(500));
    }
}
