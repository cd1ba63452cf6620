//! Makes sure the configured master keys are the keys their ids stood for before. A key
//! replaced under the same id would leave every stored API key unopenable; the service
//! refuses to start instead.

use sqlx::types::Json;
use sqlx::PgPool;

use crate::vault::KeyRing;
use domain::secret::SealedSecret;

/// Why the configured master keys cannot be used with this database.
#[derive(Debug, thiserror::Error)]
pub enum KeyCheckError {
    /// A key id names a different key than before.
    #[error("the master key configured as {0:?} is not the key that id stood for before; restore it, or give the new key a new PREPSYNC_MASTER_KEY_ID and list the old one in PREPSYNC_OLD_MASTER_KEYS")]
    Mismatch(String),
    /// The database could not be asked.
    #[error("master key check failed: {0}")]
    Database(#[from] sqlx::Error),
}

/// Records a check value for each new key id and verifies the others.
pub async fn ensure_keys_match(pool: &PgPool, ring: &KeyRing) -> Result<(), KeyCheckError> {
    for key_id in ring.key_ids() {
        if let Some(check) = ring.check_value(&key_id) {
            sqlx::query("INSERT INTO master_key_checks (key_id, sealed) VALUES ($1, $2) ON CONFLICT (key_id) DO NOTHING")
                .bind(&key_id)
                .bind(Json(&check))
                .execute(pool)
                .await?;
        }
        let stored: Json<SealedSecret> =
            sqlx::query_scalar("SELECT sealed FROM master_key_checks WHERE key_id = $1")
                .bind(&key_id)
                .fetch_one(pool)
                .await?;
        if !ring.matches_check_value(&stored.0) {
            return Err(KeyCheckError::Mismatch(key_id));
        }
    }
    Ok(())
}
