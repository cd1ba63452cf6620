//! The control handle over a running sandbox: data changes between syncs, late commits,
//! injected faults and the call log.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::{Duration, Instant};

use chrono::NaiveDateTime;
use odoo_sandbox::{
    CallMatcher, ControlError, Dataset, Fault, FaultRule, LineChanges, NewLine, NewOrder,
    OrderChanges, Sandbox, SandboxConfig, UserKind,
};
use serde_json::{json, Value};
use support::{jsonrpc, send, Answer};

async fn start(version: u8) -> Sandbox {
    Sandbox::start(SandboxConfig::new(version)).await.unwrap()
}

async fn execute(
    sandbox: &Sandbox,
    model: &str,
    method: &str,
    args: Value,
    kwargs: Value,
) -> Value {
    let user = sandbox.user(UserKind::SalesAll);
    let call = json!([
        sandbox.database(),
        user.uid,
        user.api_key,
        model,
        method,
        args,
        kwargs
    ]);
    jsonrpc(sandbox.addr(), "object", "execute_kw", call).await["result"].clone()
}

async fn count(sandbox: &Sandbox, domain: Value) -> i64 {
    execute(
        sandbox,
        "sale.order",
        "search_count",
        json!([domain]),
        json!({}),
    )
    .await
    .as_i64()
    .unwrap()
}

fn at(text: &str) -> NaiveDateTime {
    NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f").unwrap()
}

async fn search_count_raw(sandbox: &Sandbox) -> std::io::Result<Answer> {
    let user = sandbox.user(UserKind::SalesAll);
    let call = json!({"jsonrpc": "2.0", "method": "call", "id": 1, "params": {"service": "object", "method": "execute_kw",
        "args": [sandbox.database(), user.uid, user.api_key, "sale.order", "search_count", [[]]]}});
    let headers = vec![("Content-Type".to_owned(), "application/json".to_owned())];
    send(
        sandbox.addr(),
        "POST",
        "/jsonrpc",
        &headers,
        call.to_string().as_bytes(),
    )
    .await
}

#[tokio::test]
async fn a_created_order_with_lines_is_served_with_its_amounts() {
    let sandbox = Sandbox::start(SandboxConfig::new(19).with_dataset(Dataset::Empty))
        .await
        .unwrap();
    let order = NewOrder::quotation()
        .with_line(NewLine::display("line_section", "Phase 1"))
        .with_line(NewLine::product(5, 2.0, 70.0))
        .with_line(NewLine {
            discount: 10.0,
            ..NewLine::product(6, 1.0, 40.0)
        });

    let id = sandbox.control().create_order(order).unwrap();
    let read = execute(
        &sandbox,
        "sale.order",
        "read",
        json!([[id]]),
        json!({"fields": ["amount_total", "order_line", "state"]}),
    )
    .await;
    let lines = execute(
        &sandbox,
        "sale.order.line",
        "read",
        json!([read[0]["order_line"].clone()]),
        json!({"fields": ["display_type", "product_uom_id"]}),
    )
    .await;

    assert_eq!(read[0]["amount_total"], 176.0);
    assert_eq!(read[0]["state"], "draft");
    assert_eq!(lines[0]["display_type"], "line_section");
    assert_eq!(lines[1]["product_uom_id"], json!([1, "Units"]));
}

#[tokio::test]
async fn a_quantity_change_moves_the_order_write_date_but_a_description_change_only_the_line() {
    let sandbox = start(18).await;
    let control = sandbox.control();
    let order = control.order(1).unwrap();
    let line_id = order["order_line"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_i64().unwrap())
        .find(|l| control.line(*l).unwrap()["display_type"] == false)
        .unwrap();
    let before = control.order_write_date(1).unwrap();

    control.set_now(Some(at("2030-01-01 10:00:00.250000")));
    control
        .update_line(
            line_id,
            LineChanges {
                name: Some("Only the text".into()),
                ..LineChanges::default()
            },
        )
        .unwrap();
    let after_text = control.order_write_date(1).unwrap();
    control.set_now(Some(at("2030-01-01 10:00:05.750000")));
    control
        .update_line(
            line_id,
            LineChanges {
                quantity: Some(99.0),
                ..LineChanges::default()
            },
        )
        .unwrap();

    assert_eq!(after_text, before);
    assert_eq!(
        control.order_write_date(1).unwrap(),
        at("2030-01-01 10:00:05.750000")
    );
    assert_eq!(
        control.line(line_id).unwrap()["write_date"],
        "2030-01-01 10:00:05"
    );
}

#[tokio::test]
async fn cancelled_and_deleted_orders_show_in_the_next_searches() {
    let sandbox = start(18).await;
    let control = sandbox.control();
    let cancelled_before = count(&sandbox, json!([["state", "=", "cancel"]])).await;
    let total_before = count(&sandbox, json!([])).await;
    let open = execute(
        &sandbox,
        "sale.order",
        "search",
        json!([[["state", "=", "sale"]]]),
        json!({"limit": 2}),
    )
    .await;

    control.cancel_order(open[0].as_i64().unwrap()).unwrap();
    control.delete_order(open[1].as_i64().unwrap()).unwrap();

    assert_eq!(
        count(&sandbox, json!([["state", "=", "cancel"]])).await,
        cancelled_before + 1
    );
    assert_eq!(count(&sandbox, json!([])).await, total_before - 1);
}

#[tokio::test]
async fn a_late_commit_appears_with_a_write_date_older_than_rows_already_seen() {
    let sandbox = start(19).await;
    let control = sandbox.control();
    control.set_now(Some(at("2030-01-01 10:00:00.100000")));
    let mut late = control.begin();
    late.update_order(
        1,
        OrderChanges {
            client_order_ref: Some(Some("PO-LATE".into())),
            ..OrderChanges::default()
        },
    );
    control.set_now(Some(at("2030-01-01 10:00:03.100000")));
    control
        .update_order(
            2,
            OrderChanges {
                client_order_ref: Some(Some("PO-EARLY".into())),
                ..OrderChanges::default()
            },
        )
        .unwrap();
    let since = json!([["write_date", ">=", "2030-01-01 00:00:00"]]);

    let seen_before_commit = execute(
        &sandbox,
        "sale.order",
        "search",
        json!([since.clone()]),
        json!({}),
    )
    .await;
    late.commit().unwrap();
    let seen_after_commit = execute(
        &sandbox,
        "sale.order",
        "search_read",
        json!([since]),
        json!({"fields": ["write_date"], "order": "write_date asc"}),
    )
    .await;

    assert_eq!(seen_before_commit, json!([2]));
    assert_eq!(
        seen_after_commit[0],
        json!({"id": 1, "write_date": "2030-01-01 10:00:00"})
    );
}

#[tokio::test]
async fn a_transaction_with_a_failing_write_changes_nothing() {
    let sandbox = start(18).await;
    let control = sandbox.control();
    let written_before = control.order_write_date(1).unwrap();
    let ids_before = control.order_ids();
    control.set_now(Some(at("2030-01-01 10:00:00.100000")));
    let mut failing = control.begin();
    failing.update_order(1, OrderChanges::default());
    failing.create_order(NewOrder::quotation().with_line(NewLine::product(5, 1.0, 70.0)));
    failing.delete_order(999_999);

    let outcome = failing.commit();

    assert_eq!(outcome, Err(ControlError::NoSuchOrder(999_999)));
    assert_eq!(control.order_write_date(1), Some(written_before));
    assert_eq!(control.order_ids(), ids_before);
    let since = json!([["write_date", ">=", "2030-01-01 00:00:00"]]);
    assert_eq!(count(&sandbox, since).await, 0);
    let by_write_date = execute(
        &sandbox,
        "sale.order",
        "search",
        json!([[]]),
        json!({"order": "write_date asc, id asc"}),
    )
    .await;
    assert_eq!(by_write_date.as_array().unwrap().len(), ids_before.len());
}

#[tokio::test]
async fn a_fault_hits_only_the_nth_matching_call() {
    let sandbox = start(18).await;
    let matcher = CallMatcher::model_method("sale.order", "search_count");
    sandbox.control().inject(
        FaultRule::new(Fault::Status { status: 503 })
            .matching(matcher.clone())
            .on_nth(2),
    );

    let statuses: Vec<u16> = futures_statuses(&sandbox, 3).await;

    assert_eq!(statuses, [200, 503, 200]);
    assert_eq!(sandbox.control().count_calls(&matcher), 3);
}

async fn futures_statuses(sandbox: &Sandbox, n: usize) -> Vec<u16> {
    let mut statuses = Vec::new();
    for _ in 0..n {
        statuses.push(search_count_raw(sandbox).await.unwrap().status);
    }
    statuses
}

#[tokio::test]
async fn too_many_requests_carries_a_retry_after_header() {
    let sandbox = start(18).await;
    sandbox
        .control()
        .inject(FaultRule::new(Fault::TooManyRequests { retry_after: 7 }));

    let answer = search_count_raw(&sandbox).await.unwrap();

    assert_eq!(
        (answer.status, answer.header("retry-after")),
        (429, Some("7"))
    );
}

#[tokio::test]
async fn a_reset_connection_gets_no_answer_and_a_truncated_body_is_cut_short() {
    let sandbox = start(18).await;
    sandbox
        .control()
        .inject(FaultRule::new(Fault::ConnectionReset));
    sandbox
        .control()
        .inject(FaultRule::new(Fault::TruncatedBody).on_nth(2));

    let reset = search_count_raw(&sandbox).await;
    let truncated = search_count_raw(&sandbox).await;

    assert!(reset.is_err(), "{reset:?}");
    assert!(truncated.is_err(), "{truncated:?}");
    assert_eq!(search_count_raw(&sandbox).await.unwrap().status, 200);
}

#[tokio::test]
async fn an_html_page_and_a_malformed_body_replace_the_answer() {
    let sandbox = start(18).await;
    sandbox.control().inject(FaultRule::new(Fault::HtmlPage));
    sandbox
        .control()
        .inject(FaultRule::new(Fault::MalformedBody).on_nth(2));

    let html = search_count_raw(&sandbox).await.unwrap();
    let malformed = search_count_raw(&sandbox).await.unwrap();

    assert_eq!(
        (html.status, html.header("content-type")),
        (200, Some("text/html; charset=utf-8"))
    );
    assert!(serde_json::from_slice::<Value>(&malformed.body).is_err());
}

#[tokio::test]
async fn latency_delays_the_answer_and_a_hang_never_answers() {
    let sandbox = start(18).await;
    sandbox
        .control()
        .inject(FaultRule::new(Fault::latency(Duration::from_millis(300))));
    sandbox
        .control()
        .inject(FaultRule::new(Fault::Hang).on_nth(2));

    let started = Instant::now();
    let slow = search_count_raw(&sandbox).await.unwrap();
    let elapsed = started.elapsed();
    let hung = tokio::time::timeout(Duration::from_millis(300), search_count_raw(&sandbox)).await;

    assert_eq!(slow.status, 200);
    assert!(elapsed >= Duration::from_millis(300));
    assert!(hung.is_err());
}

#[tokio::test]
async fn calls_are_logged_with_protocol_model_and_method() {
    let sandbox = start(19).await;
    let user = sandbox.user(UserKind::SalesAll);

    jsonrpc(sandbox.addr(), "common", "version", json!([])).await;
    support::json2(
        sandbox.addr(),
        sandbox.database(),
        &user.api_key,
        "sale.order",
        "search_count",
        json!({"domain": []}),
    )
    .await;
    execute(
        &sandbox,
        "sale.order",
        "search_count",
        json!([[]]),
        json!({}),
    )
    .await;

    let control = sandbox.control();
    assert_eq!(control.calls().len(), 3);
    assert_eq!(
        control.count_calls(&CallMatcher::model_method("sale.order", "search_count")),
        2
    );
    assert_eq!(control.count_calls(&CallMatcher::protocol("json2")), 1);
    control.clear_calls();
    assert!(control.calls().is_empty());
}

#[tokio::test]
async fn the_http_control_routes_inject_faults_and_list_calls() {
    let sandbox = start(18).await;
    let headers = vec![("Content-Type".to_owned(), "application/json".to_owned())];
    let rule =
        json!({"matcher": {"method": "search_count"}, "fault": {"kind": "status", "status": 502}});

    send(
        sandbox.addr(),
        "POST",
        "/__sandbox/faults",
        &headers,
        rule.to_string().as_bytes(),
    )
    .await
    .unwrap();
    let faulty = search_count_raw(&sandbox).await.unwrap();
    let calls = send(sandbox.addr(), "GET", "/__sandbox/calls", &[], b"")
        .await
        .unwrap();

    assert_eq!(faulty.status, 502);
    assert_eq!(calls.json()[0]["method"], "search_count");
}

#[tokio::test]
async fn orders_are_created_changed_and_cancelled_over_the_http_control_routes() {
    let sandbox = Sandbox::start(SandboxConfig::new(18).with_dataset(Dataset::Empty))
        .await
        .unwrap();
    let headers = vec![("Content-Type".to_owned(), "application/json".to_owned())];
    let order = json!({"state": "sale", "client_order_ref": "PO-1", "lines": [{"product_id": 5, "quantity": 3.0, "price_unit": 70.0}]});

    let created = send(
        sandbox.addr(),
        "POST",
        "/__sandbox/orders",
        &headers,
        order.to_string().as_bytes(),
    )
    .await
    .unwrap();
    let id = created.json()["id"].as_i64().unwrap();
    let line = json!({"display_type": "line_note", "name": "Fragile"});
    let added = send(
        sandbox.addr(),
        "POST",
        &format!("/__sandbox/orders/{id}/lines"),
        &headers,
        line.to_string().as_bytes(),
    )
    .await
    .unwrap();
    let cancelled = send(
        sandbox.addr(),
        "POST",
        &format!("/__sandbox/orders/{id}/cancel"),
        &[],
        b"",
    )
    .await
    .unwrap();
    let missing = send(sandbox.addr(), "DELETE", "/__sandbox/orders/999", &[], b"")
        .await
        .unwrap();

    assert_eq!(
        (
            created.status,
            added.status,
            cancelled.status,
            missing.status
        ),
        (201, 201, 204, 404)
    );
    let read = execute(
        &sandbox,
        "sale.order",
        "read",
        json!([[id]]),
        json!({"fields": ["state", "amount_total", "order_line"]}),
    )
    .await;
    assert_eq!(read[0]["state"], "cancel");
    assert_eq!(read[0]["amount_total"], 210.0);
    assert_eq!(read[0]["order_line"].as_array().unwrap().len(), 2);
}
