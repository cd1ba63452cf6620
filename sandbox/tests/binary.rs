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
