//! The registry of connections, which a trigger keeps in step with connection events inside
//! the transaction that records them.

use anyhow::anyhow;
use application::ports::{ConnectionDirectory, StoreError};
use async_trait::async_trait;
use domain::connection::SourceKey;
use domain::ids::{AccountId, ConnectionId};
use sqlx::PgPool;

/// A [`ConnectionDirectory`] on PostgreSQL.
#[derive(Debug, Clone)]
pub struct PgConnectionDirectory {
    pool: PgPool,
}

impl PgConnectionDirectory {
    /// A directory on this pool.
    pub fn new(pool: PgPool) -> Self {
        Self { pool }
    }
}

#[async_trait]
impl ConnectionDirectory for PgConnectionDirectory {
    async fn list(&self, account: &AccountId) -> Result<Vec<ConnectionId>, StoreError> {
        let rows: Vec<String> = sqlx::query_scalar(
            "SELECT connection_id FROM connection_registry
              WHERE account_id = $1 AND NOT deleted ORDER BY created_at, connection_id",
        )
        .bind(account.as_str())
        .fetch_all(&self.pool)
        .await
        .map_err(unavailable)?;
        rows.iter().map(|id| parse_id(id)).collect()
    }

    async fn holder_of(
        &self,
        account: &AccountId,
        source: &SourceKey,
    ) -> Result<Option<ConnectionId>, StoreError> {
        let row: Option<String> = sqlx::query_scalar(
            "SELECT connection_id FROM connection_registry
              WHERE account_id = $1 AND source_digest = md5($2) AND source_key = $2 AND NOT deleted",
        )
        .bind(account.as_str())
        .bind(source.as_str())
        .fetch_optional(&self.pool)
        .await
        .map_err(unavailable)?;
        row.as_deref().map(parse_id).transpose()
    }

    async fn everything(&self) -> Result<Vec<(AccountId, ConnectionId)>, StoreError> {
        let rows: Vec<(String, String)> = sqlx::query_as(
            "SELECT account_id, connection_id FROM connection_registry ORDER BY created_at",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(unavailable)?;
        rows.iter()
            .map(|(account, id)| {
                let account =
                    AccountId::parse(account).map_err(|e| StoreError::Corrupt(anyhow!(e)))?;
                Ok((account, parse_id(id)?))
            })
            .collect()
    }
}

fn parse_id(raw: &str) -> Result<ConnectionId, StoreError> {
    ConnectionId::parse(raw)
        .ok_or_else(|| StoreError::Corrupt(anyhow!("bad connection id {raw:?}")))
}

fn unavailable(error: sqlx::Error) -> StoreError {
    StoreError::Unavailable(error.into())
}
