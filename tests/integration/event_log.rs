//! The global order of the event store: every event is read exactly once, in an order that
//! never changes behind a reader, even when a transaction commits after a later one.

use std::collections::HashSet;
use std::time::Duration;

use infrastructure::event_log::{Checkpoint, EventLog};
use prepsync_tests::TestDatabase;
use serde_json::json;
use sqlx::{PgConnection, PgPool};

async fn append(conn: &mut PgConnection, aggregate_id: &str, sequence: i64) -> i64 {
    sqlx::query_scalar(
        "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata)
         VALUES ('probe', $1, $2, 'ProbeRecorded', '1', '{}', $3) RETURNING global_position",
    )
    .bind(aggregate_id)
    .bind(sequence)
    .bind(json!({"account_id": "acme", "actor": "system", "correlation_id": "c", "recorded_at": "t"}))
    .fetch_one(conn)
    .await
    .expect("event appended")
}

/// Reads until `seen` holds `count` events. Events become visible once every transaction
/// older than theirs has ended, on any database of the server, so tests running beside this
/// one can delay them; a delay is not a skip.
async fn read_until(log: &EventLog, after: &mut Checkpoint, seen: &mut Vec<String>, count: usize) {
    for _ in 0..500 {
        read_all(log, after, seen).await;
        if seen.len() >= count {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn read_all(log: &EventLog, after: &mut Checkpoint, seen: &mut Vec<String>) {
    loop {
        let batch = log.read_after(*after, 100).await.expect("read");
        if batch.is_empty() {
            return;
        }
        for event in batch {
            *after = event.checkpoint();
            seen.push(event.aggregate_id);
        }
    }
}

#[tokio::test]
async fn an_event_committed_late_with_a_lower_position_is_still_read() {
    let db = TestDatabase::create().await;
    let log = EventLog::new(db.pool().clone());
    let mut early = db.pool().begin().await.unwrap();
    let mut late = db.pool().begin().await.unwrap();
    sqlx::query("SELECT pg_current_xact_id()")
        .execute(&mut *early)
        .await
        .unwrap();
    sqlx::query("SELECT pg_current_xact_id()")
        .execute(&mut *late)
        .await
        .unwrap();

    let late_position = append(&mut late, "late", 1).await;
    let early_position = append(&mut early, "early", 1).await;
    assert!(
        late_position < early_position,
        "the late writer holds the lower position"
    );
    early.commit().await.unwrap();

    let mut checkpoint = Checkpoint::START;
    let mut seen = Vec::new();
    read_until(&log, &mut checkpoint, &mut seen, 1).await;
    assert_eq!(seen, ["early"]);

    late.commit().await.unwrap();
    read_until(&log, &mut checkpoint, &mut seen, 2).await;
    assert_eq!(seen, ["early", "late"]);
}

#[tokio::test]
async fn events_of_a_transaction_still_running_hold_back_later_ones_until_it_ends() {
    let db = TestDatabase::create().await;
    let log = EventLog::new(db.pool().clone());
    let mut first = db.pool().begin().await.unwrap();
    append(&mut first, "first", 1).await;
    let mut second = db.pool().acquire().await.unwrap();
    append(&mut second, "second", 1).await;

    let mut checkpoint = Checkpoint::START;
    let mut seen = Vec::new();
    read_all(&log, &mut checkpoint, &mut seen).await;
    assert!(
        seen.is_empty(),
        "nothing may be read past a running transaction: {seen:?}"
    );

    first.commit().await.unwrap();
    read_until(&log, &mut checkpoint, &mut seen, 2).await;
    assert_eq!(seen, ["first", "second"]);
}

async fn writer(pool: PgPool, writer: usize, transactions: usize) -> Vec<String> {
    let mut written = Vec::new();
    for n in 0..transactions {
        let mut tx = pool.begin().await.unwrap();
        let id = format!("w{writer}-{n}");
        append(&mut tx, &id, 1).await;
        tokio::time::sleep(Duration::from_millis(((writer * 7 + n * 3) % 5) as u64)).await;
        tx.commit().await.unwrap();
        written.push(id);
    }
    written
}

#[tokio::test]
async fn a_reader_polling_beside_concurrent_writers_sees_every_event_exactly_once() {
    let db = TestDatabase::create().await;
    let log = EventLog::new(db.pool().clone());
    let writers: Vec<_> = (0..4)
        .map(|w| tokio::spawn(writer(db.pool().clone(), w, 40)))
        .collect();

    let mut checkpoint = Checkpoint::START;
    let mut seen = Vec::new();
    while !writers.iter().all(|w| w.is_finished()) {
        read_all(&log, &mut checkpoint, &mut seen).await;
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let mut written = HashSet::new();
    for handle in writers {
        written.extend(handle.await.unwrap());
    }
    read_until(&log, &mut checkpoint, &mut seen, written.len()).await;

    let unique: HashSet<_> = seen.iter().cloned().collect();
    assert_eq!(unique.len(), seen.len(), "an event was read twice");
    assert_eq!(unique, written, "an event was skipped");
}

#[tokio::test]
async fn events_without_account_and_actor_are_refused_by_the_store() {
    let db = TestDatabase::create().await;
    let result = sqlx::query(
        "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata)
         VALUES ('probe', 'x', 1, 'ProbeRecorded', '1', '{}', '{}')",
    )
    .execute(db.pool())
    .await;
    assert!(result.is_err());
}
