//! Reading and changing an account's settings.

use std::sync::Arc;

use domain::account::{Account, AccountCommand, TimeZone};
use domain::metadata::EventMetadata;

use crate::access::{Caller, Operation};
use crate::ports::{AggregateStore, Clock, CommandError, StoreError};
use crate::AppError;

/// An account's settings as callers read them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountSettings {
    /// The time zone dates are read in.
    pub time_zone: TimeZone,
}

/// The account use cases.
#[derive(Clone)]
pub struct Accounts {
    store: Arc<dyn AggregateStore<Account>>,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for Accounts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Accounts").finish_non_exhaustive()
    }
}

impl Accounts {
    /// Wires the use cases to their ports.
    pub fn new(store: Arc<dyn AggregateStore<Account>>, clock: Arc<dyn Clock>) -> Self {
        Self { store, clock }
    }

    /// The caller's account settings; an account nobody changed has the defaults.
    pub async fn settings(&self, caller: &Caller) -> Result<AccountSettings, AppError> {
        caller.require(Operation::ReadAccount)?;
        let account = self
            .store
            .load(caller.account_id.as_str())
            .await
            .map_err(AppError::internal)?;
        Ok(AccountSettings {
            time_zone: account.time_zone().clone(),
        })
    }

    /// Changes the caller's account settings.
    pub async fn update_settings(
        &self,
        caller: &Caller,
        time_zone: &str,
    ) -> Result<AccountSettings, AppError> {
        caller.require(Operation::UpdateAccountSettings)?;
        let time_zone = TimeZone::parse(time_zone)?;

        let metadata = EventMetadata {
            account_id: caller.account_id.clone(),
            actor: caller.actor.clone(),
            correlation_id: caller.correlation_id,
            recorded_at: self.clock.now(),
        };
        let command = AccountCommand::UpdateSettings { time_zone };
        match self
            .store
            .execute(caller.account_id.as_str(), command, &metadata)
            .await
        {
            Ok(()) => self.settings(caller).await,
            Err(CommandError::Rejected(never)) => match never {},
            Err(CommandError::Store(StoreError::Conflict)) => Err(AppError::Conflict {
                field: None,
                message: "the settings were changed at the same time; reload them and try again"
                    .into(),
            }),
            Err(CommandError::Store(error)) => Err(AppError::internal(error)),
        }
    }
}
