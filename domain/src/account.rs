//! An account's settings. The account itself needs no creation: it exists from the first
//! request that names it, with default settings until an admin changes them.

use cqrs_es::event_sink::EventSink;
use cqrs_es::{Aggregate, DomainEvent};
use serde::{Deserialize, Serialize};

use crate::validation::FieldError;

/// An IANA time zone name, such as `Europe/Berlin`; the account's dates are read in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TimeZone(String);

impl TimeZone {
    /// Accepts names of the IANA time zone database.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let zone: chrono_tz::Tz = raw.trim().parse().map_err(|_| {
            FieldError::new(
                "timeZone",
                "must be an IANA time zone name such as Europe/Berlin",
            )
        })?;
        Ok(Self(zone.name().to_owned()))
    }

    /// The zone, for date arithmetic.
    pub fn tz(&self) -> chrono_tz::Tz {
        self.0.parse().unwrap_or(chrono_tz::UTC)
    }

    /// The zone's name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Default for TimeZone {
    fn default() -> Self {
        Self("UTC".to_owned())
    }
}

/// The account aggregate: its settings.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Account {
    time_zone: TimeZone,
}

impl Account {
    /// The time zone the account's dates are read in.
    pub fn time_zone(&self) -> &TimeZone {
        &self.time_zone
    }
}

/// What an admin can ask of an account.
#[derive(Debug, Clone, PartialEq)]
pub enum AccountCommand {
    /// Change the account's settings.
    UpdateSettings {
        /// The new time zone.
        time_zone: TimeZone,
    },
}

/// What happened to an account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum AccountEvent {
    /// The account's settings were changed.
    AccountSettingsUpdated {
        /// The time zone from now on.
        time_zone: TimeZone,
    },
}

impl DomainEvent for AccountEvent {
    fn event_type(&self) -> String {
        match self {
            Self::AccountSettingsUpdated { .. } => "AccountSettingsUpdated".to_owned(),
        }
    }

    fn event_version(&self) -> String {
        "1".to_owned()
    }
}

/// Account commands cannot fail on their own; this type has no values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AccountError {}

impl Aggregate for Account {
    const TYPE: &'static str = "account";
    type Command = AccountCommand;
    type Event = AccountEvent;
    type Error = AccountError;
    type Services = ();

    async fn handle(
        &mut self,
        command: Self::Command,
        _services: &Self::Services,
        sink: &EventSink<Self>,
    ) -> Result<(), Self::Error> {
        match command {
            AccountCommand::UpdateSettings { time_zone } if time_zone != self.time_zone => {
                sink.write(AccountEvent::AccountSettingsUpdated { time_zone }, self)
                    .await;
            }
            AccountCommand::UpdateSettings { .. } => {}
        }
        Ok(())
    }

    fn apply(&mut self, event: Self::Event) {
        match event {
            AccountEvent::AccountSettingsUpdated { time_zone } => self.time_zone = time_zone,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use cqrs_es::test::TestFramework;

    use super::*;

    fn zone(name: &str) -> TimeZone {
        TimeZone::parse(name).unwrap()
    }

    #[test]
    fn time_zones_are_iana_names() {
        assert_eq!(zone("Europe/Berlin").as_str(), "Europe/Berlin");
        assert_eq!(
            TimeZone::parse("Mars/Olympus").unwrap_err().field,
            "timeZone"
        );
    }

    #[tokio::test]
    async fn a_new_time_zone_is_recorded() {
        TestFramework::<Account>::with(())
            .given_no_previous_events()
            .when_async(AccountCommand::UpdateSettings {
                time_zone: zone("Asia/Tokyo"),
            })
            .await
            .then_expect_events(vec![AccountEvent::AccountSettingsUpdated {
                time_zone: zone("Asia/Tokyo"),
            }]);
    }

    #[tokio::test]
    async fn setting_the_same_time_zone_again_records_nothing() {
        TestFramework::<Account>::with(())
            .given(vec![AccountEvent::AccountSettingsUpdated {
                time_zone: zone("Asia/Tokyo"),
            }])
            .when_async(AccountCommand::UpdateSettings {
                time_zone: zone("Asia/Tokyo"),
            })
            .await
            .then_expect_events(vec![]);
    }
}
