//! A sandbox keeping its data in a directory: the same rows and write dates after a restart,
//! the changes made through the control handle included.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::path::PathBuf;

use chrono::NaiveDateTime;
use odoo_sandbox::{
    Dataset, LineChanges, NewLine, NewOrder, OrderChanges, Sandbox, SandboxConfig, UserKind,
};
use serde_json::{json, Value};
use support::jsonrpc;

/// An empty directory of its own for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir()
        .join("odoo-sandbox-tests")
        .join(format!("{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn config(dir: &PathBuf, orders: usize) -> SandboxConfig {
    SandboxConfig::new(18)
        .with_dataset(Dataset::Generated { orders, seed: 5 })
        .with_data_dir(dir)
}

/// Every order with its lines, as a sync reads them.
async fn everything(sandbox: &Sandbox) -> Value {
    let user = sandbox.user(UserKind::SalesAll);
    let mut read = Vec::new();
    for (model, fields) in [
        (
            "sale.order",
            json!(["name", "state", "amount_total", "order_line", "write_date"]),
        ),
        (
            "sale.order.line",
            json!(["name", "product_uom_qty", "price_subtotal", "write_date"]),
        ),
    ] {
        let kwargs = json!({"fields": fields, "order": "write_date asc, id asc"});
        let call = json!([
            sandbox.database(),
            user.uid,
            user.api_key,
            model,
            "search_read",
            [[]],
            kwargs
        ]);
        read.push(jsonrpc(sandbox.addr(), "object", "execute_kw", call).await["result"].clone());
    }
    Value::Array(read)
}

fn write_dates(sandbox: &Sandbox) -> Vec<Option<NaiveDateTime>> {
    let control = sandbox.control();
    control
        .order_ids()
        .into_iter()
        .map(|id| control.order_write_date(id))
        .collect()
}

#[tokio::test]
async fn a_restarted_sandbox_serves_the_same_rows_and_write_dates() {
    let dir = scratch("same-rows");
    let first = Sandbox::start(config(&dir, 40)).await.unwrap();
    let served = everything(&first).await;
    let stamps = write_dates(&first);
    first.shutdown().await;

    let second = Sandbox::start(config(&dir, 40)).await.unwrap();

    assert_eq!(everything(&second).await, served);
    assert_eq!(write_dates(&second), stamps);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn a_restarted_sandbox_serves_its_data_file_rather_than_generating_again() {
    let dir = scratch("from-file");
    Sandbox::start(config(&dir, 10))
        .await
        .unwrap()
        .shutdown()
        .await;
    let file = dir.join("odoo-18-data.jsonl");
    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::write(&file, text.replace("\"S00001\"", "\"S00001-kept\"")).unwrap();

    let sandbox = Sandbox::start(config(&dir, 10)).await.unwrap();

    assert_eq!(sandbox.control().order(1).unwrap()["name"], "S00001-kept");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn changes_made_through_the_control_handle_survive_a_restart() {
    let dir = scratch("changes");
    let first = Sandbox::start(config(&dir, 10)).await.unwrap();
    let control = first.control();
    control.set_now(Some(
        NaiveDateTime::parse_from_str("2030-01-01 10:00:00.250", "%Y-%m-%d %H:%M:%S%.f").unwrap(),
    ));
    let created = control
        .create_order(
            NewOrder::quotation()
                .in_state("sale")
                .with_line(NewLine::product(5, 2.0, 70.0)),
        )
        .unwrap();
    let line = control.order(created).unwrap()["order_line"][0]
        .as_i64()
        .unwrap();
    control
        .update_line(
            line,
            LineChanges {
                quantity: Some(3.0),
                ..LineChanges::default()
            },
        )
        .unwrap();
    control.cancel_order(2).unwrap();
    control.delete_order(3).unwrap();
    let mut late = control.begin();
    late.update_order(
        4,
        OrderChanges {
            client_order_ref: Some(Some("PO-LATE".into())),
            ..OrderChanges::default()
        },
    );
    late.commit().unwrap();
    let served = everything(&first).await;
    let stamps = write_dates(&first);
    first.shutdown().await;

    let second = Sandbox::start(config(&dir, 10)).await.unwrap();

    assert_eq!(everything(&second).await, served);
    assert_eq!(write_dates(&second), stamps);
    assert_eq!(
        second.control().order(created).unwrap()["amount_total"],
        210.0
    );
    let next = second
        .control()
        .create_order(NewOrder::quotation())
        .unwrap();
    assert_eq!(next, created + 1);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn a_data_file_made_for_another_data_set_is_refused() {
    let dir = scratch("other-data-set");
    Sandbox::start(config(&dir, 10))
        .await
        .unwrap()
        .shutdown()
        .await;

    let refused = Sandbox::start(config(&dir, 11)).await.unwrap_err();

    assert_eq!(refused.kind(), std::io::ErrorKind::InvalidData);
    assert!(
        refused.to_string().contains("another configuration"),
        "{refused}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn the_same_configuration_writes_the_same_data_file() {
    let (one, two) = (scratch("deterministic-1"), scratch("deterministic-2"));
    Sandbox::start(config(&one, 25))
        .await
        .unwrap()
        .shutdown()
        .await;
    Sandbox::start(config(&two, 25))
        .await
        .unwrap()
        .shutdown()
        .await;

    let read = |dir: &PathBuf| std::fs::read(dir.join("odoo-18-data.jsonl")).unwrap();

    assert_eq!(read(&one), read(&two));
    std::fs::remove_dir_all(&one).unwrap();
    std::fs::remove_dir_all(&two).unwrap();
}
