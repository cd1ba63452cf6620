//! The `odoo-sandbox` binary as a process: it prints its URL and users, answers, and stops
//! when killed.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use serde_json::json;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

#[tokio::test]
async fn the_binary_serves_the_configured_version_and_prints_its_url() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_odoo-sandbox"))
        .args([
            "--odoo-version",
            "17",
            "--listen",
            "127.0.0.1:0",
            "--orders",
            "20",
        ])
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();

    let banner = lines.next_line().await.unwrap().unwrap();
    let url = banner
        .split(" at ")
        .nth(1)
        .unwrap()
        .split(' ')
        .next()
        .unwrap();
    let addr = url.trim_start_matches("http://").parse().unwrap();
    let answer = support::jsonrpc(addr, "common", "version", json!([])).await;

    assert_eq!(answer["result"]["server_version"], "17.0");
    child.kill().await.unwrap();
}

#[tokio::test]
async fn the_binary_keeps_its_data_in_the_data_directory_it_is_given() {
    let dir = std::env::temp_dir().join(format!("odoo-sandbox-binary-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut child = Command::new(env!("CARGO_BIN_EXE_odoo-sandbox"))
        .args([
            "--odoo-version",
            "18",
            "--listen",
            "127.0.0.1:0",
            "--orders",
            "5",
        ])
        .arg("--data-dir")
        .arg(&dir)
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();

    let banner = lines.next_line().await.unwrap().unwrap();

    assert!(banner.starts_with("odoo sandbox 18.0 at "), "{banner}");
    let data = std::fs::read_to_string(dir.join("odoo-18-data.jsonl")).unwrap();
    assert!(data.starts_with("{\"format\":\"odoo-sandbox-data\""));
    child.kill().await.unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
}
