//! The demo's data directory (`PREPSYNC_DATA_DIR`, default `.prepsync`): generated secrets
//! (`master.key`, `jwt.secret`, `postgres.password`, readable by their owner only), the
//! Odoo sandbox's data (`odoo/`), the PostgreSQL cluster (`postgres/`, see
//! [`super::cluster`]), the log (`prepsync.log`), `demo.json`, which keeps what must stay
//! the same across runs, and `demo.lock`, held by the run using the directory.

use std::io::Write;
use std::path::{Path, PathBuf};

use secrecy::SecretString;
use serde::{Deserialize, Serialize};

const STATE_FILE: &str = "demo.json";
const LOCK_FILE: &str = "demo.lock";

/// A data directory held by one run: while it lives, [`DataDir::lock`] in any other process
/// finds the directory taken. The lock is the system's (an advisory lock on `demo.lock`), so
/// it ends with the process, however the process ends: a killed run leaves nothing stale.
#[derive(Debug)]
pub struct DataDirLock {
    _file: std::fs::File,
}

/// What the demo keeps across runs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DemoState {
    /// The Odoo sandbox's port: part of the demo connection's URL, so it never changes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub odoo_port: Option<u16>,
    /// The cluster's last port, tried first on the next run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postgres_port: Option<u16>,
    /// The cluster's files, when they are not in the data directory (run as root by a user
    /// that cannot reach it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postgres_dir: Option<PathBuf>,
}

/// The data directory, created when missing.
#[derive(Debug, Clone)]
pub struct DataDir {
    root: PathBuf,
}

impl DataDir {
    /// Opens (creating when needed) the directory at `path`, made absolute.
    pub fn open(path: &Path) -> std::io::Result<DataDir> {
        std::fs::create_dir_all(path)?;
        Ok(DataDir {
            root: std::fs::canonicalize(path)?,
        })
    }

    /// Takes the directory for this run; `None` when another run holds it.
    pub fn lock(&self) -> std::io::Result<Option<DataDirLock>> {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(self.root.join(LOCK_FILE))?;
        match file.try_lock() {
            Ok(()) => Ok(Some(DataDirLock { _file: file })),
            Err(std::fs::TryLockError::WouldBlock) => Ok(None),
            Err(std::fs::TryLockError::Error(error)) => Err(error),
        }
    }

    /// The directory's absolute path.
    pub fn path(&self) -> &Path {
        &self.root
    }

    /// The secret kept in the file `name`, made by `make` and written (mode 0600) on first use.
    pub fn secret(
        &self,
        name: &str,
        make: impl FnOnce() -> String,
    ) -> std::io::Result<SecretString> {
        let path = self.root.join(name);
        match std::fs::read_to_string(&path) {
            Ok(text) if !text.trim().is_empty() => return Ok(SecretString::from(text.trim())),
            Ok(_) => {}
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
            Err(error) => return Err(error),
        }
        let value = make();
        write_private(&path, &value)?;
        Ok(SecretString::from(value))
    }

    /// The state of earlier runs (empty on the first).
    pub fn state(&self) -> std::io::Result<DemoState> {
        let path = self.root.join(STATE_FILE);
        match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|error| {
                let message = format!("{} is not readable ({error}): remove it", path.display());
                std::io::Error::new(std::io::ErrorKind::InvalidData, message)
            }),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(DemoState::default()),
            Err(error) => Err(error),
        }
    }

    /// Keeps the state for the next run.
    pub fn save_state(&self, state: &DemoState) -> std::io::Result<()> {
        let path = self.root.join(STATE_FILE);
        let text = serde_json::to_string_pretty(state).map_err(std::io::Error::other)?;
        let temporary = path.with_extension("json.new");
        std::fs::write(&temporary, text + "\n")?;
        std::fs::rename(temporary, path)
    }
}

fn write_private(path: &Path, value: &str) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    file.write_all(value.as_bytes())?;
    file.write_all(b"\n")?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    fn temporary_dir() -> PathBuf {
        let dir = std::env::temp_dir().join(format!("prepsync-files-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn a_secret_is_made_once_and_read_back_on_the_next_run() {
        use secrecy::ExposeSecret;
        let dir = DataDir::open(&temporary_dir()).unwrap();

        let first = dir.secret("jwt.secret", || "first".into()).unwrap();
        let second = dir.secret("jwt.secret", || "second".into()).unwrap();

        assert_eq!(first.expose_secret(), "first");
        assert_eq!(second.expose_secret(), "first");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join("jwt.secret"))
                .unwrap()
                .permissions();
            assert_eq!(mode.mode() & 0o777, 0o600);
        }
        std::fs::remove_dir_all(dir.path()).unwrap();
    }

    #[test]
    fn a_directory_held_by_one_run_is_refused_to_another_until_released() {
        let dir = DataDir::open(&temporary_dir()).unwrap();

        let first = dir.lock().unwrap();
        let second = dir.lock().unwrap();
        assert!(first.is_some());
        assert!(second.is_none());

        drop(first);
        assert!(dir.lock().unwrap().is_some());
        std::fs::remove_dir_all(dir.path()).unwrap();
    }

    #[test]
    fn the_state_survives_a_restart_and_starts_empty() {
        let dir = DataDir::open(&temporary_dir()).unwrap();
        assert_eq!(dir.state().unwrap(), DemoState::default());

        let state = DemoState {
            odoo_port: Some(18069),
            postgres_port: Some(40000),
            postgres_dir: None,
        };
        dir.save_state(&state).unwrap();

        assert_eq!(dir.state().unwrap(), state);
        std::fs::remove_dir_all(dir.path()).unwrap();
    }
}
