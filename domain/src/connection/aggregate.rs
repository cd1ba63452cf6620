//! The connection aggregate: decisions on commands, and state rebuilt from events.

use chrono::{DateTime, NaiveDate, Utc};
use cqrs_es::event_sink::EventSink;
use cqrs_es::Aggregate;
use serde::{Deserialize, Serialize};

use super::{
    ConnectionEvent, ConnectionName, ConnectionSettings, ConnectionTestResult, DatabaseName,
    DomainFilter, OdooUrl, OrderDateRange, Protocol, Schedule, SchedulePatch, Username,
};
use crate::ids::{AccountId, ConnectionId};
use crate::secret::SealedSecret;
use crate::validation::FieldErrors;

/// What a connection looks like to its account's admins. Holds no key material beyond the
/// fact that a key is set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConnectionView {
    /// The connection's id.
    pub id: ConnectionId,
    /// Its account.
    pub account_id: AccountId,
    /// Its settings.
    pub settings: ConnectionSettings,
    /// Its schedule.
    pub schedule: Schedule,
    /// When its API key was last given.
    pub api_key_updated_at: DateTime<Utc>,
    /// The last test result, if it was ever tested.
    pub last_test: Option<ConnectionTestResult>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When its settings, key or schedule last changed.
    pub updated_at: DateTime<Utc>,
}

/// The connection aggregate.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Connection {
    view: Option<ConnectionView>,
    api_key: Option<SealedSecret>,
    deleted: bool,
}

impl Connection {
    /// The connection as its account sees it, unless it was never created or is deleted.
    pub fn view_for(&self, account: &AccountId) -> Option<&ConnectionView> {
        self.view
            .as_ref()
            .filter(|view| !self.deleted && &view.account_id == account)
    }

    /// The sealed API key of a live connection of this account.
    pub fn sealed_api_key_for(&self, account: &AccountId) -> Option<&SealedSecret> {
        self.view_for(account).and(self.api_key.as_ref())
    }

    /// The connection regardless of deletion, for maintenance such as key rotation.
    pub fn stored(&self) -> Option<(&ConnectionView, &SealedSecret)> {
        self.view.as_ref().zip(self.api_key.as_ref())
    }

    fn live(&self, account: &AccountId) -> Result<&ConnectionView, ConnectionError> {
        self.view_for(account).ok_or(ConnectionError::NotFound)
    }
}

/// Changes to a connection's settings; `None` keeps a value, `Some(None)` clears an optional
/// one.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ConnectionPatch {
    /// A new name.
    pub name: Option<ConnectionName>,
    /// A new URL.
    pub url: Option<OdooUrl>,
    /// A new database.
    pub database: Option<DatabaseName>,
    /// A new login.
    pub username: Option<Username>,
    /// A new protocol choice.
    pub protocol: Option<Protocol>,
    /// A new filter, or none.
    pub domain_filter: Option<Option<DomainFilter>>,
    /// A new first order date, or none.
    pub order_date_from: Option<Option<NaiveDate>>,
    /// A new last order date, or none.
    pub order_date_to: Option<Option<NaiveDate>>,
}

impl ConnectionPatch {
    /// The settings with this patch applied, or the field errors of the combination.
    pub fn apply_to(
        &self,
        current: &ConnectionSettings,
    ) -> Result<ConnectionSettings, FieldErrors> {
        let from = self.order_date_from.unwrap_or(current.order_dates.from);
        let to = self.order_date_to.unwrap_or(current.order_dates.to);
        Ok(ConnectionSettings {
            name: self.name.clone().unwrap_or_else(|| current.name.clone()),
            url: self.url.clone().unwrap_or_else(|| current.url.clone()),
            database: self
                .database
                .clone()
                .unwrap_or_else(|| current.database.clone()),
            username: self
                .username
                .clone()
                .unwrap_or_else(|| current.username.clone()),
            protocol: self.protocol.unwrap_or(current.protocol),
            domain_filter: self
                .domain_filter
                .clone()
                .unwrap_or_else(|| current.domain_filter.clone()),
            order_dates: OrderDateRange::new(from, to)?,
        })
    }
}

/// What can be asked of a connection. Every command names the caller's account.
#[derive(Debug, Clone, PartialEq)]
pub enum ConnectionCommand {
    /// Add a connection.
    Create {
        /// The id chosen for it (the sealed key is bound to it).
        id: ConnectionId,
        /// The caller's account.
        account_id: AccountId,
        /// Its settings.
        settings: ConnectionSettings,
        /// Its sealed API key.
        api_key: SealedSecret,
        /// Its schedule.
        schedule: Schedule,
        /// Now.
        at: DateTime<Utc>,
    },
    /// Change settings, key and schedule; unchanged parts record nothing.
    Update {
        /// The caller's account.
        account_id: AccountId,
        /// Settings changes.
        patch: ConnectionPatch,
        /// A new sealed API key, if one was given.
        api_key: Option<SealedSecret>,
        /// Schedule changes.
        schedule: SchedulePatch,
        /// Now.
        at: DateTime<Utc>,
    },
    /// Record the outcome of a connection test.
    RecordTest {
        /// The caller's account.
        account_id: AccountId,
        /// The outcome.
        result: ConnectionTestResult,
    },
    /// Seal the same key again under the current master key.
    ResealApiKey {
        /// The connection's account.
        account_id: AccountId,
        /// The newly sealed key.
        api_key: SealedSecret,
        /// Now.
        at: DateTime<Utc>,
    },
    /// Delete the connection; synced data stays.
    Delete {
        /// The caller's account.
        account_id: AccountId,
        /// Now.
        at: DateTime<Utc>,
    },
}

/// Why a connection command was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConnectionError {
    /// No such connection in the caller's account (or it was deleted).
    #[error("connection not found")]
    NotFound,
    /// A connection with this id exists already.
    #[error("connection already exists")]
    AlreadyExists,
    /// The combined settings break a rule.
    #[error("invalid connection settings: {0}")]
    Invalid(FieldErrors),
}

impl Aggregate for Connection {
    const TYPE: &'static str = "connection";
    type Command = ConnectionCommand;
    type Event = ConnectionEvent;
    type Error = ConnectionError;
    type Services = ();

    async fn handle(
        &mut self,
        command: Self::Command,
        _services: &Self::Services,
        sink: &EventSink<Self>,
    ) -> Result<(), Self::Error> {
        let events = match command {
            ConnectionCommand::Create {
                id,
                account_id,
                settings,
                api_key,
                schedule,
                at,
            } => self.create(id, account_id, settings, api_key, schedule, at)?,
            ConnectionCommand::Update {
                account_id,
                patch,
                api_key,
                schedule,
                at,
            } => self.update(&account_id, &patch, api_key, schedule, at)?,
            ConnectionCommand::RecordTest { account_id, result } => {
                self.live(&account_id)?;
                vec![ConnectionEvent::ConnectionTested { result }]
            }
            ConnectionCommand::ResealApiKey {
                account_id,
                api_key,
                at,
            } => self.reseal(&account_id, api_key, at)?,
            ConnectionCommand::Delete { account_id, at } => {
                self.live(&account_id)?;
                vec![ConnectionEvent::ConnectionDeleted { at }]
            }
        };

        for event in events {
            sink.write(event, self).await;
        }
        Ok(())
    }

    fn apply(&mut self, event: Self::Event) {
        match event {
            ConnectionEvent::ConnectionCreated {
                connection_id,
                account_id,
                settings,
                api_key,
                schedule,
                at,
                ..
            } => {
                self.api_key = Some(api_key);
                self.view = Some(ConnectionView {
                    id: connection_id,
                    account_id,
                    settings,
                    schedule,
                    api_key_updated_at: at,
                    last_test: None,
                    created_at: at,
                    updated_at: at,
                });
            }
            ConnectionEvent::ConnectionDeleted { .. } => self.deleted = true,
            ConnectionEvent::ApiKeyResealed { api_key, .. } => self.api_key = Some(api_key),
            ConnectionEvent::ApiKeyReplaced { api_key, at } => {
                self.api_key = Some(api_key);
                self.change_view(|view| {
                    view.api_key_updated_at = at;
                    view.updated_at = at;
                });
            }
            ConnectionEvent::ConnectionSettingsChanged { settings, at, .. } => {
                self.change_view(|view| {
                    view.settings = settings;
                    view.updated_at = at;
                });
            }
            ConnectionEvent::ScheduleChanged { schedule, at } => self.change_view(|view| {
                view.schedule = schedule;
                view.updated_at = at;
            }),
            ConnectionEvent::ConnectionTested { result } => {
                self.change_view(|view| view.last_test = Some(result));
            }
        }
    }
}

impl Connection {
    fn create(
        &self,
        id: ConnectionId,
        account_id: AccountId,
        settings: ConnectionSettings,
        api_key: SealedSecret,
        schedule: Schedule,
        at: DateTime<Utc>,
    ) -> Result<Vec<ConnectionEvent>, ConnectionError> {
        if self.view.is_some() {
            return Err(ConnectionError::AlreadyExists);
        }

        let source = settings.source();
        Ok(vec![ConnectionEvent::ConnectionCreated {
            connection_id: id,
            account_id,
            settings,
            source,
            api_key,
            schedule,
            at,
        }])
    }

    fn update(
        &self,
        account_id: &AccountId,
        patch: &ConnectionPatch,
        api_key: Option<SealedSecret>,
        schedule: SchedulePatch,
        at: DateTime<Utc>,
    ) -> Result<Vec<ConnectionEvent>, ConnectionError> {
        let current = self.live(account_id)?;
        let settings = patch
            .apply_to(&current.settings)
            .map_err(ConnectionError::Invalid)?;
        let schedule = schedule.apply_to(current.schedule);

        let mut events = Vec::new();
        if settings != current.settings {
            let source = settings.source();
            events.push(ConnectionEvent::ConnectionSettingsChanged {
                settings,
                source,
                at,
            });
        }
        if let Some(api_key) = api_key {
            events.push(ConnectionEvent::ApiKeyReplaced { api_key, at });
        }
        if schedule != current.schedule {
            events.push(ConnectionEvent::ScheduleChanged { schedule, at });
        }
        Ok(events)
    }

    fn reseal(
        &self,
        account_id: &AccountId,
        api_key: SealedSecret,
        at: DateTime<Utc>,
    ) -> Result<Vec<ConnectionEvent>, ConnectionError> {
        match self.view.as_ref() {
            Some(view) if &view.account_id == account_id => {
                Ok(vec![ConnectionEvent::ApiKeyResealed { api_key, at }])
            }
            _ => Err(ConnectionError::NotFound),
        }
    }

    fn change_view(&mut self, change: impl FnOnce(&mut ConnectionView)) {
        if let Some(view) = self.view.as_mut() {
            change(view);
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use cqrs_es::test::TestFramework;

    use super::*;
    use crate::connection::{BatchSize, SyncMode, UrlPolicy};

    type Framework = TestFramework<Connection>;

    fn at() -> DateTime<Utc> {
        DateTime::from_timestamp(1_780_000_000, 0).unwrap()
    }

    fn account(name: &str) -> AccountId {
        AccountId::parse(name).unwrap()
    }

    fn key(tag: &str) -> SealedSecret {
        SealedSecret {
            key_id: "k1".into(),
            nonce: tag.into(),
            ciphertext: tag.into(),
        }
    }

    fn settings() -> ConnectionSettings {
        ConnectionSettings {
            name: ConnectionName::parse("Main kitchen").unwrap(),
            url: OdooUrl::parse("https://acme.odoo.com", UrlPolicy::default()).unwrap(),
            database: DatabaseName::parse("acme").unwrap(),
            username: Username::parse("api@acme.com").unwrap(),
            protocol: Protocol::Auto,
            domain_filter: None,
            order_dates: OrderDateRange::default(),
        }
    }

    fn created(id: ConnectionId) -> ConnectionEvent {
        ConnectionEvent::ConnectionCreated {
            connection_id: id,
            account_id: account("acme"),
            settings: settings(),
            source: settings().source(),
            api_key: key("a"),
            schedule: Schedule::default(),
            at: at(),
        }
    }

    fn update(patch: ConnectionPatch, schedule: SchedulePatch) -> ConnectionCommand {
        ConnectionCommand::Update {
            account_id: account("acme"),
            patch,
            api_key: None,
            schedule,
            at: at(),
        }
    }

    #[tokio::test]
    async fn creating_a_connection_records_its_settings_and_source() {
        let id = ConnectionId::new();
        Framework::with(())
            .given_no_previous_events()
            .when_async(ConnectionCommand::Create {
                id,
                account_id: account("acme"),
                settings: settings(),
                api_key: key("a"),
                schedule: Schedule::default(),
                at: at(),
            })
            .await
            .then_expect_events(vec![created(id)]);
    }

    #[tokio::test]
    async fn another_account_cannot_touch_a_connection() {
        let id = ConnectionId::new();
        Framework::with(())
            .given(vec![created(id)])
            .when_async(ConnectionCommand::Delete {
                account_id: account("other"),
                at: at(),
            })
            .await
            .then_expect_error(ConnectionError::NotFound);
    }

    #[tokio::test]
    async fn a_deleted_connection_cannot_be_updated() {
        let id = ConnectionId::new();
        Framework::with(())
            .given(vec![
                created(id),
                ConnectionEvent::ConnectionDeleted { at: at() },
            ])
            .when_async(update(ConnectionPatch::default(), SchedulePatch::default()))
            .await
            .then_expect_error(ConnectionError::NotFound);
    }

    #[tokio::test]
    async fn an_update_that_changes_nothing_records_nothing() {
        let patch = ConnectionPatch {
            name: Some(settings().name),
            ..Default::default()
        };
        Framework::with(())
            .given(vec![created(ConnectionId::new())])
            .when_async(update(patch, SchedulePatch::default()))
            .await
            .then_expect_events(vec![]);
    }

    #[tokio::test]
    async fn an_explicit_null_clears_the_filter_and_an_omitted_field_stays() {
        let mut with_filter = settings();
        with_filter.domain_filter = Some(DomainFilter::parse("[]").unwrap());
        let patch = ConnectionPatch {
            domain_filter: Some(None),
            ..Default::default()
        };
        Framework::with(())
            .given(vec![
                created(ConnectionId::new()),
                ConnectionEvent::ConnectionSettingsChanged {
                    source: with_filter.source(),
                    settings: with_filter,
                    at: at(),
                },
            ])
            .when_async(update(patch, SchedulePatch::default()))
            .await
            .then_expect_events(vec![ConnectionEvent::ConnectionSettingsChanged {
                settings: settings(),
                source: settings().source(),
                at: at(),
            }]);
    }

    #[tokio::test]
    async fn a_schedule_change_is_recorded_on_its_own() {
        let patch = SchedulePatch {
            mode: Some(SyncMode::Automatic),
            batch_size: Some(BatchSize::parse(50).unwrap()),
            ..Default::default()
        };
        let expected = patch.apply_to(Schedule::default());
        Framework::with(())
            .given(vec![created(ConnectionId::new())])
            .when_async(update(ConnectionPatch::default(), patch))
            .await
            .then_expect_events(vec![ConnectionEvent::ScheduleChanged {
                schedule: expected,
                at: at(),
            }]);
    }

    #[tokio::test]
    async fn a_patch_whose_dates_cross_is_refused() {
        let day = |d| NaiveDate::from_ymd_opt(2026, 3, d);
        let patch = ConnectionPatch {
            order_date_from: Some(day(9)),
            order_date_to: Some(day(1)),
            ..Default::default()
        };
        let result = Framework::with(())
            .given(vec![created(ConnectionId::new())])
            .when_async(update(patch, SchedulePatch::default()))
            .await
            .inspect_result();
        assert!(matches!(result, Err(ConnectionError::Invalid(_))));
    }
}
