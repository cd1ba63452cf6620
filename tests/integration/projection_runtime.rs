//! The projection runtime against events written straight into the store: streams whose
//! writers interleave, events it cannot read, and orders larger than one statement holds.

use std::time::Duration;

use domain::ids::ConnectionId;
use domain::sales_order::{
    ImportedLine, ImportedOrder, LineKind, OrderEvent, OrderStatus, ProductRef, RecordedBy,
};
use domain::sync_run::SyncRunId;
use prepsync_tests::TestDatabase;
use projections::{ProjectionError, SalesRecords};
use rust_decimal::Decimal;
use serde_json::{json, Value};
use sqlx::PgConnection;

const DIGEST: &str = "0123456789abcdef0123456789abcdef";

fn stream(order: i64) -> String {
    format!("acme:{DIGEST}:{order}")
}

fn line(id: i64) -> ImportedLine {
    ImportedLine {
        source_line_id: id,
        kind: LineKind::Product,
        product: Some(ProductRef {
            id: 7,
            name: "Bread".into(),
            internal_reference: None,
            barcode: None,
        }),
        description: format!("line {id}"),
        quantity: Decimal::ONE,
        unit: None,
        product_unit: None,
        unit_factor: Some(Decimal::ONE),
        unit_price: Decimal::ONE,
        discount: Decimal::ZERO,
        subtotal: Decimal::ONE,
    }
}

fn order(id: i64, total: i64, lines: usize) -> Box<ImportedOrder> {
    Box::new(ImportedOrder {
        source_order_id: id,
        number: format!("S{id}"),
        order_date: None,
        customer: None,
        customer_reference: None,
        status: OrderStatus::Confirmed,
        source_state: "sale".into(),
        locked: false,
        commitment_date: None,
        expected_date: None,
        currency: Some("EUR".into()),
        amount_untaxed: None,
        amount_total: Decimal::from(total),
        company: None,
        lines: (1..=lines as i64).map(line).collect(),
    })
}

fn by() -> RecordedBy {
    RecordedBy {
        run_id: SyncRunId::new(),
        connection_id: ConnectionId::new(),
    }
}

fn imported(order: Box<ImportedOrder>) -> Value {
    let fingerprint = order.fingerprint();
    serde_json::to_value(OrderEvent::OrderImported {
        by: by(),
        order,
        fingerprint,
    })
    .unwrap()
}

fn updated(order: Box<ImportedOrder>) -> Value {
    let fingerprint = order.fingerprint();
    serde_json::to_value(OrderEvent::OrderUpdated {
        by: by(),
        order,
        fingerprint,
    })
    .unwrap()
}

async fn append(conn: &mut PgConnection, order: i64, sequence: i64, payload: Value) -> i64 {
    let event_type = payload
        .as_object()
        .and_then(|o| o.keys().next().cloned())
        .unwrap_or_else(|| "OrderImported".into());
    sqlx::query_scalar(
        "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata)
         VALUES ('sales_order', $1, $2, $3, '1', $4, $5) RETURNING global_position",
    )
    .bind(stream(order))
    .bind(sequence)
    .bind(event_type)
    .bind(payload)
    .bind(json!({"account_id": "acme", "actor": "system", "correlation_id": "c", "recorded_at": "t"}))
    .fetch_one(conn)
    .await
    .unwrap()
}

/// Steps until every committed event is applied, or the first error. Events wait for
/// transactions of tests running beside this one, so an empty step is retried for a while.
async fn drain(db: &TestDatabase, batch: i64) -> Result<usize, ProjectionError> {
    let mut applied = 0;
    for _ in 0..3_000 {
        applied += projections::step(db.pool(), &SalesRecords, batch).await?;
        let status = projections::status(db.pool()).await?;
        let records = status.iter().find(|s| s.name == "sales_records");
        if records.is_some_and(|s| s.lag_events == 0) {
            return Ok(applied);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the projection did not catch up within a minute");
}

async fn total(db: &TestDatabase, order: i64) -> Option<Decimal> {
    sqlx::query_scalar("SELECT amount_total FROM sales_records WHERE record_id = $1")
        .bind(stream(order))
        .fetch_optional(db.pool())
        .await
        .unwrap()
}

#[tokio::test]
async fn a_stream_event_whose_writer_took_its_transaction_id_first_does_not_undo_a_later_one() {
    let db = TestDatabase::create().await;
    let mut conn = db.pool().acquire().await.unwrap();
    append(&mut conn, 1, 1, imported(order(1, 10, 1))).await;

    // The second writer locks its run row first, as a sync batch does, so its transaction id
    // is older than the first writer's, then extends the stream after the first commits.
    let mut second = db.pool().begin().await.unwrap();
    sqlx::query("SELECT pg_current_xact_id()")
        .execute(&mut *second)
        .await
        .unwrap();
    let mut first = db.pool().begin().await.unwrap();
    append(&mut first, 1, 2, updated(order(1, 20, 1))).await;
    first.commit().await.unwrap();
    append(&mut second, 1, 3, updated(order(1, 30, 1))).await;
    second.commit().await.unwrap();

    drain(&db, 100).await.unwrap();
    assert_eq!(total(&db, 1).await, Some(Decimal::from(30)));
}

#[tokio::test]
async fn an_order_with_more_lines_than_one_statement_binds_is_projected_whole() {
    let db = TestDatabase::create().await;
    let mut conn = db.pool().acquire().await.unwrap();
    append(&mut conn, 1, 1, imported(order(1, 10, 4_000))).await;

    drain(&db, 100).await.unwrap();
    let lines: i64 = sqlx::query_scalar("SELECT count(*) FROM sales_record_lines")
        .fetch_one(db.pool())
        .await
        .unwrap();
    assert_eq!(lines, 4_000);
}

#[tokio::test]
async fn an_unreadable_event_stops_the_projection_right_before_it_and_names_its_position() {
    let db = TestDatabase::create().await;
    let mut conn = db.pool().acquire().await.unwrap();
    append(&mut conn, 1, 1, imported(order(1, 10, 1))).await;
    let bad = append(&mut conn, 2, 1, json!({"OrderImported": {"by": "nobody"}})).await;
    append(&mut conn, 3, 1, imported(order(3, 30, 1))).await;

    let error = drain(&db, 100).await.unwrap_err();
    assert!(
        matches!(error, ProjectionError::Malformed { position, .. } if position == bad),
        "{error}"
    );
    assert_eq!(total(&db, 1).await, Some(Decimal::from(10)));
    assert_eq!(total(&db, 3).await, None);
    let again = projections::step(db.pool(), &SalesRecords, 100).await;
    assert!(matches!(again, Err(ProjectionError::Malformed { .. })));
    assert_eq!(total(&db, 1).await, Some(Decimal::from(10)));
}

/// Records every event it is handed in a table whose key refuses a second application.
#[derive(Debug)]
struct Probe;

#[async_trait::async_trait]
impl projections::Projection for Probe {
    fn name(&self) -> &'static str {
        "probe"
    }

    async fn apply(
        &self,
        tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
        event: &infrastructure::event_log::RecordedEvent,
    ) -> Result<(), ProjectionError> {
        sqlx::query("INSERT INTO probe_applied (position) VALUES ($1)")
            .bind(event.global_position)
            .execute(&mut **tx)
            .await?;
        Ok(())
    }

    async fn reset(
        &self,
        tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
    ) -> Result<(), ProjectionError> {
        sqlx::query("DELETE FROM probe_applied")
            .execute(&mut **tx)
            .await?;
        Ok(())
    }
}

/// A replica's runner: steps until told to stop, then until caught up; any error fails.
async fn replica(pool: sqlx::PgPool, stop: tokio::sync::watch::Receiver<bool>) {
    loop {
        let applied = projections::step(&pool, &Probe, 7).await.unwrap();
        if applied == 0 && *stop.borrow() {
            return;
        }
        if applied == 0 {
            tokio::time::sleep(Duration::from_millis(3)).await;
        }
    }
}

#[tokio::test]
async fn two_replicas_and_a_replay_beside_concurrent_writers_apply_every_event_exactly_once() {
    let db = TestDatabase::create().await;
    sqlx::query("CREATE TABLE probe_applied (position bigint PRIMARY KEY)")
        .execute(db.pool())
        .await
        .unwrap();
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let replicas: Vec<_> = (0..2)
        .map(|_| tokio::spawn(replica(db.pool().clone(), stopped.clone())))
        .collect();
    let writers: Vec<_> = (0..3)
        .map(|w| {
            let pool = db.pool().clone();
            tokio::spawn(async move {
                for n in 0..60 {
                    let mut tx = pool.begin().await.unwrap();
                    append(&mut tx, w * 1_000 + n, 1, json!({})).await;
                    tokio::time::sleep(Duration::from_millis((n % 4) as u64)).await;
                    tx.commit().await.unwrap();
                    if w == 0 && n == 30 {
                        projections::replay(&pool, &Probe).await.unwrap();
                    }
                }
            })
        })
        .collect();
    for writer in writers {
        writer.await.unwrap();
    }

    let written: i64 = sqlx::query_scalar("SELECT count(*) FROM events")
        .fetch_one(db.pool())
        .await
        .unwrap();
    for _ in 0..3_000 {
        let applied: i64 = sqlx::query_scalar("SELECT count(*) FROM probe_applied")
            .fetch_one(db.pool())
            .await
            .unwrap();
        if applied == written {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    stop.send(true).unwrap();
    for replica in replicas {
        replica.await.unwrap();
    }
    let missing: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM events e
          WHERE NOT EXISTS (SELECT 1 FROM probe_applied p WHERE p.position = e.global_position)",
    )
    .fetch_one(db.pool())
    .await
    .unwrap();
    assert_eq!(missing, 0, "events skipped");
}
