//! The demo's private PostgreSQL cluster on the machine's own binaries: a `postmaster.pid`
//! left behind whose process id now belongs to another process of the cluster's user.

use std::io::BufRead;
use std::path::PathBuf;

use api::demo::cluster::{self, Cluster, Start};
use api::demo::files::{DataDir, DemoState};
use secrecy::ExposeSecret;

fn is_root() -> bool {
    std::process::Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|out| String::from_utf8_lossy(&out.stdout).trim() == "0")
}

/// A process of the cluster's user (`postgres` under root) that is not a server: its id.
fn bystander() -> (std::process::Child, String) {
    let script = "echo $$; exec sleep 60";
    let mut command = if is_root() {
        let mut command = std::process::Command::new("runuser");
        command.args(["-u", "postgres", "--", "sh", "-c", script]);
        command
    } else {
        let mut command = std::process::Command::new("sh");
        command.args(["-c", script]);
        command
    };
    let mut child = command
        .current_dir("/")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    (child, line.trim().to_owned())
}

#[tokio::test]
async fn a_stale_postmaster_pid_naming_another_process_of_the_user_does_not_stop_the_cluster() {
    let root = std::env::temp_dir().join(format!("prepsync-cluster-{}", uuid::Uuid::new_v4()));
    let data = DataDir::open(&root).unwrap();
    let mut state = DemoState::default();
    let binaries = cluster::find_binaries(None).unwrap();
    let first = Cluster::start(&data, &mut state, binaries.clone())
        .await
        .unwrap();
    let dir: PathBuf = first.dir().to_path_buf();
    let port = first.port();
    first.stop().await.unwrap();

    let (mut other, pid) = bystander();
    let stale = format!(
        "{pid}\n{}\n1796402355\n{port}\n\n127.0.0.1\n  1234567     32768\nready   \n",
        dir.display()
    );
    let pid_file = dir.join("postmaster.pid");
    std::fs::write(&pid_file, stale).unwrap();
    if is_root() {
        std::process::Command::new("chown")
            .args(["postgres:postgres"])
            .arg(&pid_file)
            .status()
            .unwrap();
    }

    let started = Cluster::start(&data, &mut state, binaries).await;
    let alive = other.try_wait().unwrap().is_none();
    other.kill().unwrap();
    other.wait().unwrap();
    let cluster = started.unwrap();
    let how = cluster.how_started();
    let answered = sqlx::query_scalar::<_, i32>("SELECT 1")
        .fetch_one(
            &sqlx::PgPool::connect(cluster.url().expose_secret())
                .await
                .unwrap(),
        )
        .await;
    cluster.stop().await.unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_dir_all(&root);

    assert!(alive, "the process named by the stale file was signalled");
    assert_eq!(how, Start::Started);
    assert_eq!(answered.unwrap(), 1);
}
