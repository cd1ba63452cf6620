//! When and how much a connection syncs.

use serde::{Deserialize, Serialize};

use crate::validation::FieldError;

/// Whether a connection syncs only on request or also on its schedule.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum SyncMode {
    /// Only "Sync Now".
    #[default]
    Manual,
    /// Every `interval`, while the connection is active.
    Automatic,
}

/// The number of orders asked of Odoo per call, 1 to 1000.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct BatchSize(u16);

impl BatchSize {
    /// The batch size of a new connection.
    pub const DEFAULT: Self = Self(100);

    /// Accepts 1 to 1000.
    pub fn parse(raw: i64) -> Result<Self, FieldError> {
        match u16::try_from(raw) {
            Ok(size @ 1..=1000) => Ok(Self(size)),
            _ => Err(FieldError::new("batchSize", "must be between 1 and 1000")),
        }
    }

    /// The size.
    pub fn get(&self) -> u16 {
        self.0
    }
}

/// The time between the starts of two scheduled syncs, in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SyncInterval(u32);

impl SyncInterval {
    /// The interval of a new connection: one hour.
    pub const DEFAULT: Self = Self(3600);
    /// The longest interval: seven days.
    pub const MAX_SECONDS: u32 = 7 * 24 * 3600;

    /// Accepts the deployment's minimum up to seven days.
    pub fn parse(raw: i64, min_seconds: u32) -> Result<Self, FieldError> {
        match u32::try_from(raw) {
            Ok(seconds) if (min_seconds..=Self::MAX_SECONDS).contains(&seconds) => {
                Ok(Self(seconds))
            }
            _ => Err(FieldError::new(
                "intervalSeconds",
                format!(
                    "must be between {min_seconds} and {} seconds",
                    Self::MAX_SECONDS
                ),
            )),
        }
    }

    /// The interval in seconds.
    pub fn seconds(&self) -> u32 {
        self.0
    }
}

/// A connection's schedule settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Schedule {
    /// Manual or automatic.
    pub mode: SyncMode,
    /// Time between scheduled runs.
    pub interval: SyncInterval,
    /// Orders per call.
    pub batch_size: BatchSize,
    /// Whether scheduled syncs run at all.
    pub active: bool,
}

impl Default for Schedule {
    fn default() -> Self {
        Self {
            mode: SyncMode::Manual,
            interval: SyncInterval::DEFAULT,
            batch_size: BatchSize::DEFAULT,
            active: true,
        }
    }
}

/// Changes to a schedule; `None` keeps the current value.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SchedulePatch {
    /// A new mode.
    pub mode: Option<SyncMode>,
    /// A new interval.
    pub interval: Option<SyncInterval>,
    /// A new batch size.
    pub batch_size: Option<BatchSize>,
    /// A new active flag.
    pub active: Option<bool>,
}

impl SchedulePatch {
    /// The schedule with this patch applied.
    pub fn apply_to(&self, schedule: Schedule) -> Schedule {
        Schedule {
            mode: self.mode.unwrap_or(schedule.mode),
            interval: self.interval.unwrap_or(schedule.interval),
            batch_size: self.batch_size.unwrap_or(schedule.batch_size),
            active: self.active.unwrap_or(schedule.active),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[test]
    fn batch_sizes_run_from_one_to_a_thousand() {
        assert!(BatchSize::parse(0).is_err());
        assert!(BatchSize::parse(1).is_ok());
        assert!(BatchSize::parse(1000).is_ok());
        assert_eq!(BatchSize::parse(1001).unwrap_err().field, "batchSize");
        assert!(BatchSize::parse(-5).is_err());
    }

    #[test]
    fn intervals_run_from_the_deployment_minimum_to_seven_days() {
        assert!(SyncInterval::parse(59, 60).is_err());
        assert!(SyncInterval::parse(60, 60).is_ok());
        assert!(SyncInterval::parse(604_800, 60).is_ok());
        assert_eq!(
            SyncInterval::parse(604_801, 60).unwrap_err().field,
            "intervalSeconds"
        );
    }
}
