//! The state one running sandbox shares between its HTTP handlers and its control handle.

use std::sync::{Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard};

use chrono::NaiveDateTime;

use crate::config::{Profile, SandboxUser};
use crate::faults::{CallRecord, Fault, FaultRule};
use crate::schema::Schema;
use crate::store::Database;

/// Shared state: data, faults, call log and clock.
#[derive(Debug)]
pub struct Shared {
    /// The version behaviour.
    pub profile: Profile,
    /// The models of that version.
    pub schema: Schema,
    /// The users of the first database.
    pub users: Vec<SandboxUser>,
    /// Whether the database list is served.
    pub list_databases: bool,
    /// Where committed [`crate::Control`] changes are appended, when data is kept on disk.
    pub changes_file: Option<std::path::PathBuf>,
    databases: RwLock<Vec<Database>>,
    faults: Mutex<Vec<FaultRule>>,
    calls: Mutex<Vec<CallRecord>>,
    frozen_now: Mutex<Option<NaiveDateTime>>,
    reserved: Mutex<std::collections::BTreeMap<String, i64>>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Shared {
    /// State over built databases.
    pub fn new(profile: Profile, users: Vec<SandboxUser>, databases: Vec<Database>) -> Shared {
        Shared {
            profile,
            schema: Schema::for_profile(profile),
            users,
            list_databases: true,
            changes_file: None,
            databases: RwLock::new(databases),
            faults: Mutex::new(Vec::new()),
            calls: Mutex::new(Vec::new()),
            frozen_now: Mutex::new(None),
            reserved: Mutex::new(Default::default()),
        }
    }

    /// The databases, for reading.
    pub fn read(&self) -> RwLockReadGuard<'_, Vec<Database>> {
        self.databases
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The databases, for writing.
    pub fn write(&self) -> RwLockWriteGuard<'_, Vec<Database>> {
        self.databases
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The names of the databases served.
    pub fn database_names(&self) -> Vec<String> {
        self.read().iter().map(|d| d.name.clone()).collect()
    }

    /// The database list as `db.list` answers it: refused when listing is off.
    pub fn database_list(&self) -> Result<Vec<String>, crate::error::OdooError> {
        match self.list_databases {
            true => Ok(self.database_names()),
            false => Err(crate::error::OdooError::AccessDenied),
        }
    }

    /// Logs a call and returns the fault it gets, if any. Every rule counts the calls it
    /// matches; when several fire on one call, the one injected first wins.
    pub fn observe(&self, call: CallRecord) -> Option<Fault> {
        let mut faults = lock(&self.faults);
        let fired: Vec<Fault> = faults
            .iter_mut()
            .filter_map(|rule| rule.observe(&call))
            .collect();
        drop(faults);
        let fault = fired.into_iter().next();
        lock(&self.calls).push(call);
        fault
    }

    /// The calls received so far.
    pub fn calls(&self) -> Vec<CallRecord> {
        lock(&self.calls).clone()
    }

    /// Forgets the calls received so far.
    pub fn clear_calls(&self) {
        lock(&self.calls).clear();
    }

    /// Adds a fault rule.
    pub fn inject(&self, rule: FaultRule) {
        lock(&self.faults).push(rule);
    }

    /// Removes every fault rule.
    pub fn clear_faults(&self) {
        lock(&self.faults).clear();
    }

    /// The current time: the real UTC clock unless frozen.
    pub fn now(&self) -> NaiveDateTime {
        lock(&self.frozen_now).unwrap_or_else(|| chrono::Utc::now().naive_utc())
    }

    /// Freezes the clock at an instant, or lets it run again with `None`.
    pub fn set_now(&self, now: Option<NaiveDateTime>) {
        *lock(&self.frozen_now) = now;
    }

    /// Reserves a new id of a model for a write not committed yet.
    pub fn reserve_id(&self, model: &str) -> i64 {
        let next_in_table = self
            .read()
            .first()
            .and_then(|d| d.table(model))
            .map_or(1, |t| t.next_id());
        let mut reserved = lock(&self.reserved);
        let entry = reserved.entry(model.to_owned()).or_insert(0);
        *entry = (*entry + 1).max(next_in_table);
        *entry
    }
}
