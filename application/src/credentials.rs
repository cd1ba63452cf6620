//! Resealing every stored API key under the current master key, so that an old master key
//! can be retired.

use std::sync::Arc;

use domain::connection::{Connection, ConnectionCommand};
use domain::ids::{AccountId, ConnectionId};
use domain::metadata::EventMetadata;

use crate::access::Caller;
use crate::ports::{AggregateStore, Clock, ConnectionDirectory, CredentialVault, SecretBinding};
use crate::AppError;

/// What a rotation did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RotationReport {
    /// Keys sealed again under the current master key.
    pub resealed: usize,
    /// Keys already under the current master key.
    pub current: usize,
}

/// Reseals every connection's API key, deleted connections included, that is not yet sealed
/// under the current master key. Records one `ApiKeyResealed` event per key, as `system`.
pub async fn reseal_all(
    store: &Arc<dyn AggregateStore<Connection>>,
    directory: &Arc<dyn ConnectionDirectory>,
    vault: &Arc<dyn CredentialVault>,
    clock: &Arc<dyn Clock>,
) -> Result<RotationReport, AppError> {
    let mut report = RotationReport::default();
    for (account_id, connection_id) in directory.everything().await.map_err(AppError::internal)? {
        if reseal_one(store, vault, clock, account_id, connection_id).await? {
            report.resealed += 1;
        } else {
            report.current += 1;
        }
    }
    Ok(report)
}

async fn reseal_one(
    store: &Arc<dyn AggregateStore<Connection>>,
    vault: &Arc<dyn CredentialVault>,
    clock: &Arc<dyn Clock>,
    account_id: AccountId,
    connection_id: ConnectionId,
) -> Result<bool, AppError> {
    let id = connection_id.to_string();
    let connection = store.load(&id).await.map_err(AppError::internal)?;
    let Some((_, sealed)) = connection.stored() else {
        return Ok(false);
    };
    if sealed.key_id == vault.current_key_id() {
        return Ok(false);
    }

    let binding = SecretBinding {
        account_id: account_id.clone(),
        connection_id,
    };
    let plain = vault.open(sealed, &binding).map_err(AppError::internal)?;
    let resealed = vault.seal(&plain, &binding).map_err(AppError::internal)?;

    let caller = Caller::system(account_id.clone());
    let metadata = EventMetadata {
        account_id: account_id.clone(),
        actor: caller.actor,
        correlation_id: caller.correlation_id,
        recorded_at: clock.now(),
    };
    let command = ConnectionCommand::ResealApiKey {
        account_id,
        api_key: resealed,
        at: clock.now(),
    };
    store
        .execute(&id, command, &metadata)
        .await
        .map_err(AppError::internal)?;
    Ok(true)
}
