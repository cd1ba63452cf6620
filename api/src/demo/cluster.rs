//! The demo's private PostgreSQL cluster, run from the machine's own binaries (`initdb`,
//! `pg_ctl`): created on the first run, started on a free port of 127.0.0.1 on each run,
//! reused when a previous run left it running, and stopped with `pg_ctl stop -m fast`.
//!
//! PostgreSQL refuses to run as root. Started by root, the cluster runs as the `postgres`
//! system user (`runuser -u postgres`), in `<data dir>/postgres` when that user can write
//! there, otherwise in `~postgres/prepsync/<id>` (recorded in the data directory). It listens
//! on 127.0.0.1 only, without a Unix socket, with a generated password, and with `fsync` off:
//! it holds demo data, which a crash of the machine may corrupt (remove the data directory).

use std::path::{Path, PathBuf};
use std::process::Output;

use secrecy::{ExposeSecret, SecretString};
use tokio::process::Command;

use super::files::{DataDir, DemoState};

/// Where the newest PostgreSQL's binaries are looked for first, as Debian and Ubuntu install
/// them (`/usr/lib/postgresql/<major>/bin`).
pub const SYSTEM_BINARIES: &str = "/usr/lib/postgresql";

/// Why the cluster cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    /// No `initdb` and `pg_ctl` where they were looked for.
    #[error(
        "PostgreSQL is not installed: no initdb and pg_ctl {looked}. Install it \
         (`apt-get install postgresql`), or set DATABASE_URL to a PostgreSQL database the \
         demo may use"
    )]
    NotInstalled {
        /// Where they were looked for.
        looked: String,
    },
    /// Running as root without a `postgres` system user to run the cluster as.
    #[error(
        "PostgreSQL refuses to run as root and there is no `postgres` system user to run it \
         as: install PostgreSQL (`apt-get install postgresql`) or set DATABASE_URL"
    )]
    NoPostgresUser,
    /// A PostgreSQL command failed.
    #[error("`{command}` failed: {detail}")]
    Command {
        /// The command.
        command: String,
        /// Its exit status and output, or why it could not start.
        detail: String,
    },
    /// A file of the data directory.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// The folder holding `initdb` and `pg_ctl`: `given` when set (nothing else is tried), else
/// the newest `/usr/lib/postgresql/*/bin`, else the first folder of `PATH` holding both.
pub fn find_binaries(given: Option<&Path>) -> Result<PathBuf, ClusterError> {
    if let Some(dir) = given {
        return has_binaries(dir).then(|| dir.to_path_buf()).ok_or_else(|| {
            ClusterError::NotInstalled {
                looked: format!("in {} (PREPSYNC_POSTGRES_BIN)", dir.display()),
            }
        });
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir(SYSTEM_BINARIES)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let major = entry
                .file_name()
                .to_str()?
                .split('.')
                .next()?
                .parse()
                .ok()?;
            Some((major, entry.path().join("bin")))
        })
        .filter(|(_, dir)| has_binaries(dir))
        .collect();
    versions.sort();
    let on_path = || {
        let path = std::env::var_os("PATH").unwrap_or_default();
        std::env::split_paths(&path).find(|dir| has_binaries(dir))
    };
    versions
        .pop()
        .map(|(_, dir)| dir)
        .or_else(on_path)
        .ok_or_else(|| ClusterError::NotInstalled {
            looked: format!("under {SYSTEM_BINARIES}/*/bin nor on PATH"),
        })
}

fn has_binaries(dir: &Path) -> bool {
    dir.join("initdb").is_file() && dir.join("pg_ctl").is_file()
}

/// Who runs the cluster's processes.
#[derive(Debug, Clone, PartialEq, Eq)]
enum RunAs {
    /// The user running the demo.
    Me,
    /// The `postgres` system user, whose home is given (the demo runs as root).
    Postgres { home: PathBuf },
}

/// How the cluster was brought up by this run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Start {
    /// Created with `initdb`, then started.
    Created,
    /// Started from its existing files.
    Started,
    /// Found running (left by an earlier run that did not stop it) and adopted.
    Adopted,
}

/// A running private cluster; [`Cluster::stop`] stops it.
#[derive(Debug)]
pub struct Cluster {
    binaries: PathBuf,
    run_as: RunAs,
    dir: PathBuf,
    port: u16,
    password: SecretString,
    start: Start,
}

impl Cluster {
    /// Creates the cluster if needed and starts it (or adopts it when it runs already).
    pub async fn start(
        data: &DataDir,
        state: &mut DemoState,
        binaries: PathBuf,
    ) -> Result<Cluster, ClusterError> {
        let run_as = run_as().await?;
        let password = data
            .secret("postgres.password", random_secret)
            .map_err(|source| io_error(data.path().join("postgres.password"), source))?;
        let dir = location(data, state, &run_as).await?;
        let mut cluster = Cluster {
            binaries,
            run_as,
            dir,
            port: 0,
            password,
            start: Start::Started,
        };

        if let Some(port) = cluster.running_port().await {
            cluster.port = port;
            cluster.start = Start::Adopted;
            tracing::info!(port, dir = %cluster.dir.display(), "demo cluster adopted");
            return Ok(cluster);
        }
        if !cluster.dir.join("PG_VERSION").is_file() {
            cluster.init().await?;
            cluster.start = Start::Created;
        }
        cluster.port = free_port(state.postgres_port);
        state.postgres_port = Some(cluster.port);
        cluster.pg_ctl_start().await?;
        tracing::info!(port = cluster.port, dir = %cluster.dir.display(), "demo cluster started");
        Ok(cluster)
    }

    /// The URL of the cluster's `postgres` database.
    pub fn url(&self) -> SecretString {
        let password = self.password.expose_secret();
        let url = format!(
            "postgres://postgres:{password}@127.0.0.1:{}/postgres",
            self.port
        );
        SecretString::from(url)
    }

    /// The cluster's files.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The port it listens on (127.0.0.1).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// How this run brought it up.
    pub fn how_started(&self) -> Start {
        self.start
    }

    /// Whether its processes run as the `postgres` system user.
    pub fn runs_as_postgres(&self) -> bool {
        matches!(self.run_as, RunAs::Postgres { .. })
    }

    /// Stops the cluster (fast shutdown: open sessions are ended, committed data is kept).
    pub async fn stop(self) -> Result<(), ClusterError> {
        let dir = self.dir.display().to_string();
        let output = self
            .pg_ctl(&["stop", "-D", &dir, "-m", "fast", "-w", "-t", "60"])
            .await?;
        if output.status.success() || self.running_port().await.is_none() {
            tracing::info!(dir = %self.dir.display(), "demo cluster stopped");
            return Ok(());
        }
        Err(failure("pg_ctl stop", &output))
    }

    async fn init(&self) -> Result<(), ClusterError> {
        self.make_dir(&self.dir).await?;
        let password_file = self.dir.with_extension("pwfile");
        std::fs::write(&password_file, self.password.expose_secret())
            .map_err(|source| io_error(password_file.clone(), source))?;
        self.hand_over(&password_file).await?;

        let command = self.binaries.join("initdb");
        let dir = self.dir.display().to_string();
        let password_arg = format!("--pwfile={}", password_file.display());
        let args = [
            "-D",
            &dir,
            "-U",
            "postgres",
            "-A",
            "scram-sha-256",
            &password_arg,
            "--encoding=UTF8",
            "--no-locale",
            "--no-sync",
        ];
        let output = self.run(&command, &args).await;
        let _ = std::fs::remove_file(&password_file);
        let output = output?;
        if !output.status.success() {
            return Err(failure("initdb", &output));
        }
        Ok(())
    }

    async fn pg_ctl_start(&self) -> Result<(), ClusterError> {
        let dir = self.dir.display().to_string();
        let log = self.dir.join("server.log").display().to_string();
        let options = format!(
            "-c listen_addresses=127.0.0.1 -p {} -c unix_socket_directories='' \
             -c fsync=off -c synchronous_commit=off -c full_page_writes=off",
            self.port
        );
        let args = [
            "start", "-D", &dir, "-l", &log, "-w", "-t", "60", "-o", &options,
        ];
        let output = self.pg_ctl(&args).await?;
        if !output.status.success() {
            let mut error = failure("pg_ctl start", &output);
            if let ClusterError::Command { detail, .. } = &mut error {
                detail.push_str(&format!("; the server's log is {log}"));
            }
            return Err(error);
        }
        Ok(())
    }

    /// The port of a server already running on these files, if one is.
    ///
    /// A `postmaster.pid` left by a server that did not stop (a killed machine or container)
    /// can name a process id the system has since given to another process of the same user,
    /// which `pg_ctl status` takes for the server (and `pg_ctl stop` would signal). A server
    /// works in its data folder, so a process working elsewhere means the file is stale: it
    /// is removed, which lets the server start.
    async fn running_port(&self) -> Option<u16> {
        let dir = self.dir.display().to_string();
        let status = self.pg_ctl(&["status", "-D", &dir]).await.ok()?;
        if !status.status.success() {
            return None;
        }
        let pid_path = self.dir.join("postmaster.pid");
        let pid_file = std::fs::read_to_string(&pid_path).ok()?;
        let pid = pid_file.lines().next()?.trim();
        if works_elsewhere(pid, &self.dir) {
            tracing::warn!(pid, dir = %self.dir.display(), "stale postmaster.pid removed");
            let _ = std::fs::remove_file(&pid_path);
            return None;
        }
        pid_file.lines().nth(3)?.trim().parse().ok()
    }

    async fn pg_ctl(&self, args: &[&str]) -> Result<Output, ClusterError> {
        let command = self.binaries.join("pg_ctl");
        self.run(&command, args).await
    }

    /// Runs a PostgreSQL binary as the cluster's user, in its own process group so that a
    /// Ctrl-C in the terminal reaches the demo, which then stops the server cleanly.
    async fn run(&self, program: &Path, args: &[&str]) -> Result<Output, ClusterError> {
        let mut command = match &self.run_as {
            RunAs::Me => Command::new(program),
            RunAs::Postgres { .. } => {
                let mut command = Command::new("runuser");
                command.args(["-u", "postgres", "--"]).arg(program);
                command
            }
        };
        command.args(args).current_dir("/").process_group(0);
        command
            .output()
            .await
            .map_err(|error| ClusterError::Command {
                command: program.display().to_string(),
                detail: error.to_string(),
            })
    }

    async fn make_dir(&self, dir: &Path) -> Result<(), ClusterError> {
        std::fs::create_dir_all(dir).map_err(|source| io_error(dir.to_path_buf(), source))?;
        self.hand_over(dir).await
    }

    /// Gives a file or folder to the `postgres` user when the cluster runs as that user.
    async fn hand_over(&self, path: &Path) -> Result<(), ClusterError> {
        if self.run_as == RunAs::Me {
            return Ok(());
        }
        let output = Command::new("chown")
            .arg("postgres:postgres")
            .arg(path)
            .output()
            .await;
        match output {
            Ok(output) if output.status.success() => Ok(()),
            Ok(output) => Err(failure("chown postgres", &output)),
            Err(error) => Err(ClusterError::Command {
                command: "chown".into(),
                detail: error.to_string(),
            }),
        }
    }
}

/// Where the cluster's files are: `<data dir>/postgres`, unless the cluster runs as `postgres`
/// and that user cannot write there, then a folder in its home (decided on the first run and
/// recorded in the state).
async fn location(
    data: &DataDir,
    state: &mut DemoState,
    run_as: &RunAs,
) -> Result<PathBuf, ClusterError> {
    if let Some(dir) = &state.postgres_dir {
        return Ok(dir.clone());
    }
    let in_data_dir = data.path().join("postgres");
    let RunAs::Postgres { home } = run_as else {
        return Ok(in_data_dir);
    };
    if postgres_can_write(&in_data_dir).await {
        return Ok(in_data_dir);
    }
    let _ = std::fs::remove_dir(&in_data_dir);
    let id = uuid::Uuid::new_v4().simple().to_string();
    let elsewhere = home.join("prepsync").join(&id[..12]);
    state.postgres_dir = Some(elsewhere.clone());
    Ok(elsewhere)
}

/// Whether the `postgres` user can write into `dir` (created and handed over first).
async fn postgres_can_write(dir: &Path) -> bool {
    if std::fs::create_dir_all(dir).is_err() {
        return false;
    }
    let chown = Command::new("chown")
        .arg("postgres:postgres")
        .arg(dir)
        .status()
        .await;
    if !chown.is_ok_and(|status| status.success()) {
        return false;
    }
    Command::new("runuser")
        .args(["-u", "postgres", "--", "test", "-w"])
        .arg(dir)
        .status()
        .await
        .is_ok_and(|status| status.success())
}

/// The demo's own user, or `postgres` when the demo runs as root.
async fn run_as() -> Result<RunAs, ClusterError> {
    let uid = Command::new("id").arg("-u").output().await;
    let is_root = uid.is_ok_and(|output| String::from_utf8_lossy(&output.stdout).trim() == "0");
    if !is_root {
        return Ok(RunAs::Me);
    }
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
    let home = passwd
        .lines()
        .map(|line| line.split(':').collect::<Vec<_>>())
        .find(|fields| fields.first() == Some(&"postgres") && fields.len() >= 6)
        .map(|fields| PathBuf::from(fields[5]))
        .ok_or(ClusterError::NoPostgresUser)?;
    Ok(RunAs::Postgres { home })
}

/// Whether the process `pid` is gone or works in a folder other than `dir`, as `/proc`
/// tells; false where there is no `/proc` to ask.
fn works_elsewhere(pid: &str, dir: &Path) -> bool {
    if !Path::new("/proc/self/cwd").exists() {
        return false;
    }
    let Ok(cwd) = std::fs::read_link(format!("/proc/{pid}/cwd")) else {
        return true;
    };
    let dir = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
    cwd != dir
}

/// `preferred` when it is free on 127.0.0.1, else a port the system hands out.
fn free_port(preferred: Option<u16>) -> u16 {
    let bind = |port: u16| std::net::TcpListener::bind(("127.0.0.1", port));
    if let Some(port) = preferred.filter(|port| bind(*port).is_ok()) {
        return port;
    }
    bind(0)
        .and_then(|listener| listener.local_addr())
        .map_or(5433, |addr| addr.port())
}

/// A fresh random secret (two 32-byte keys, base64).
pub fn random_secret() -> String {
    let a = infrastructure::vault::KeyRing::generate_key();
    let b = infrastructure::vault::KeyRing::generate_key();
    format!("{}{}", a.expose_secret(), b.expose_secret())
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect()
}

fn failure(command: &str, output: &Output) -> ClusterError {
    let stderr = String::from_utf8_lossy(&output.stderr);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let text = if stderr.trim().is_empty() {
        stdout
    } else {
        stderr
    };
    ClusterError::Command {
        command: command.to_owned(),
        detail: format!("{} ({})", text.trim(), output.status),
    }
}

fn io_error(path: PathBuf, source: std::io::Error) -> ClusterError {
    ClusterError::Io { path, source }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    fn temporary_dir() -> PathBuf {
        let dir = std::env::temp_dir().join(format!("prepsync-bin-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn a_given_folder_without_initdb_and_pg_ctl_names_itself_and_what_to_install() {
        let dir = temporary_dir();
        std::fs::write(dir.join("initdb"), "").unwrap();

        let error = find_binaries(Some(&dir)).unwrap_err();

        let message = error.to_string();
        assert!(matches!(error, ClusterError::NotInstalled { .. }));
        assert!(message.contains(&dir.display().to_string()), "{message}");
        assert!(message.contains("apt-get install postgresql"), "{message}");
        assert!(message.contains("DATABASE_URL"), "{message}");
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_given_folder_with_both_binaries_is_used_as_it_is() {
        let dir = temporary_dir();
        std::fs::write(dir.join("initdb"), "").unwrap();
        std::fs::write(dir.join("pg_ctl"), "").unwrap();

        assert_eq!(find_binaries(Some(&dir)).unwrap(), dir);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_process_working_in_another_folder_is_not_the_server_of_this_one() {
        let dir = temporary_dir();
        let other = temporary_dir();
        let mut child = std::process::Command::new("sleep")
            .arg("30")
            .current_dir(&dir)
            .spawn()
            .unwrap();
        let pid = child.id().to_string();

        let here = works_elsewhere(&pid, &dir);
        let elsewhere = works_elsewhere(&pid, &other);
        child.kill().unwrap();
        child.wait().unwrap();
        let gone = works_elsewhere(&pid, &dir);

        assert!(!here);
        assert!(elsewhere);
        assert!(gone);
        std::fs::remove_dir_all(dir).unwrap();
        std::fs::remove_dir_all(other).unwrap();
    }

    #[test]
    fn the_last_port_is_kept_while_it_is_free_and_replaced_once_taken() {
        let free = free_port(None);
        assert_eq!(free_port(Some(free)), free);

        let taken = std::net::TcpListener::bind(("127.0.0.1", 0)).unwrap();
        let port = taken.local_addr().unwrap().port();
        assert_ne!(free_port(Some(port)), port);
    }
}
