//! The sync engine's write path against a real PostgreSQL: a batch's order events, run
//! counts and cursor commit together; unchanged orders record nothing; one run at a time per
//! connection; what it writes reads back through cqrs-es like any other aggregate.

use application::ports::AggregateStore;
use application::sync::RunContext;
use chrono::{DateTime, NaiveDateTime, Utc};
use domain::connection::{DatabaseName, OdooUrl, SourceKey, UrlPolicy};
use domain::ids::{AccountId, Actor, ConnectionId};
use domain::sales_order::{
    ImportedLine, ImportedOrder, LineKind, Observation, ObservedOrder, OrderStatus, ProductRef,
    SourceRef,
};
use domain::sync_run::{RunError, RunStatus, SyncCursor, SyncRun, SyncRunId, SyncTrigger};
use infrastructure::event_store::PgAggregateStore;
use infrastructure::sync_store::{PgSyncStore, SyncStoreError};
use prepsync_tests::TestDatabase;
use uuid::Uuid;

fn now() -> DateTime<Utc> {
    Utc::now()
}

fn context(connection_id: ConnectionId) -> RunContext {
    let url = OdooUrl::parse("https://acme.odoo.com", UrlPolicy::default()).unwrap();
    RunContext {
        run_id: SyncRunId::new(),
        account_id: AccountId::parse("acme").unwrap(),
        connection_id,
        source: SourceKey::of(&url, &DatabaseName::parse("acme").unwrap()),
        actor: Actor::user("alice"),
        correlation_id: Uuid::new_v4(),
    }
}

fn a_confirmed_order(id: i64, quantity: i64) -> ImportedOrder {
    ImportedOrder {
        source_order_id: id,
        number: format!("S{id:05}"),
        order_date: DateTime::from_timestamp(1_780_000_000, 0),
        customer: Some(SourceRef {
            id: 7,
            name: "Café Nord".into(),
        }),
        customer_reference: None,
        status: OrderStatus::Confirmed,
        source_state: "sale".into(),
        locked: false,
        commitment_date: None,
        expected_date: None,
        currency: Some("EUR".into()),
        amount_untaxed: None,
        amount_total: quantity.into(),
        company: None,
        lines: vec![ImportedLine {
            source_line_id: id * 10,
            kind: LineKind::Product,
            product: Some(ProductRef {
                id: 9,
                name: "Croissant".into(),
                internal_reference: None,
                barcode: None,
            }),
            description: "Croissant".into(),
            quantity: quantity.into(),
            unit: None,
            product_unit: None,
            unit_factor: None,
            unit_price: 1.into(),
            discount: 0.into(),
            subtotal: quantity.into(),
        }],
    }
}

fn seen(order: ImportedOrder) -> ObservedOrder {
    ObservedOrder {
        source_order_id: order.source_order_id,
        observation: Observation::Read {
            order: Box::new(order),
            in_scope: true,
        },
    }
}

fn cursor(second: u32, last_id: i64) -> Option<SyncCursor> {
    let second = NaiveDateTime::parse_from_str(
        &format!("2026-12-03 16:00:{second:02}"),
        "%Y-%m-%d %H:%M:%S",
    )
    .unwrap();
    Some(SyncCursor { second, last_id })
}

async fn started_run(store: &PgSyncStore, connection: ConnectionId) -> RunContext {
    let ctx = context(connection);
    store
        .request(&ctx, SyncTrigger::Manual, now())
        .await
        .unwrap();
    store.start(&ctx, now()).await.unwrap();
    ctx
}

async fn count(db: &TestDatabase, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(db.pool()).await.unwrap()
}

#[tokio::test]
async fn a_batch_records_new_orders_counts_and_cursor_together() {
    let db = TestDatabase::create().await;
    let store = PgSyncStore::new(db.pool().clone());
    let ctx = started_run(&store, ConnectionId::new()).await;

    let batch = (1..=3).map(|id| seen(a_confirmed_order(id, 2))).collect();
    let counts = store.commit_batch(&ctx, batch, cursor(5, 3)).await.unwrap();
    assert_eq!(
        (counts.fetched, counts.imported, counts.unchanged),
        (3, 3, 0)
    );
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM events WHERE event_type = 'OrderImported'"
        )
        .await,
        3
    );
    assert_eq!(count(&db, "SELECT count(*) FROM held_orders").await, 3);
    assert_eq!(
        store.cursor(&ctx.account_id, &ctx.source).await.unwrap(),
        cursor(5, 3)
    );
    let actors = count(
        &db,
        "SELECT count(*) FROM events WHERE metadata ->> 'actor' = 'alice' AND account_id = 'acme'",
    )
    .await;
    assert_eq!(actors, count(&db, "SELECT count(*) FROM events").await);
}

#[tokio::test]
async fn re_reading_unchanged_orders_records_no_order_event() {
    let db = TestDatabase::create().await;
    let store = PgSyncStore::new(db.pool().clone());
    let ctx = started_run(&store, ConnectionId::new()).await;
    let batch = || {
        (1..=3)
            .map(|id| seen(a_confirmed_order(id, 2)))
            .collect::<Vec<_>>()
    };
    store.commit_batch(&ctx, batch(), None).await.unwrap();

    let again = store.commit_batch(&ctx, batch(), None).await.unwrap();
    assert_eq!(
        (
            again.fetched,
            again.unchanged,
            again.imported,
            again.updated
        ),
        (3, 3, 0, 0)
    );
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM events WHERE aggregate_type = 'sales_order'"
        )
        .await,
        3
    );
}

#[tokio::test]
async fn changes_cancellations_and_removals_extend_each_orders_own_stream() {
    let db = TestDatabase::create().await;
    let store = PgSyncStore::new(db.pool().clone());
    let ctx = started_run(&store, ConnectionId::new()).await;
    store
        .commit_batch(
            &ctx,
            (1..=3).map(|id| seen(a_confirmed_order(id, 2))).collect(),
            None,
        )
        .await
        .unwrap();

    let mut cancelled = a_confirmed_order(2, 2);
    cancelled.status = OrderStatus::Cancelled;
    let batch = vec![
        seen(a_confirmed_order(1, 5)),
        seen(cancelled),
        ObservedOrder {
            source_order_id: 3,
            observation: Observation::Gone,
        },
    ];
    let counts = store.commit_batch(&ctx, batch, None).await.unwrap();
    assert_eq!(
        (counts.updated, counts.cancelled, counts.removed),
        (1, 1, 1)
    );
    let types: Vec<(String, i64)> = sqlx::query_as(
        "SELECT event_type, sequence FROM events WHERE aggregate_type = 'sales_order' AND sequence = 2 ORDER BY event_type",
    )
    .fetch_all(db.pool())
    .await
    .unwrap();
    let names: Vec<&str> = types.iter().map(|(t, _)| t.as_str()).collect();
    assert_eq!(
        names,
        ["OrderCancelled", "OrderRemovedFromSource", "OrderUpdated"]
    );
}

#[tokio::test]
async fn a_connection_has_one_run_in_progress_at_a_time() {
    let db = TestDatabase::create().await;
    let store = PgSyncStore::new(db.pool().clone());
    let connection = ConnectionId::new();
    let attempts: Vec<RunContext> = (0..6).map(|_| context(connection)).collect();
    let results = futures::future::join_all(
        attempts
            .iter()
            .map(|ctx| store.request(ctx, SyncTrigger::Manual, now())),
    )
    .await;

    let winners: Vec<&RunContext> = attempts
        .iter()
        .zip(&results)
        .filter(|(_, r)| r.is_ok())
        .map(|(c, _)| c)
        .collect();
    assert_eq!(winners.len(), 1, "{results:?}");
    for result in &results {
        if let Err(SyncStoreError::RunInProgress(existing)) = result {
            assert_eq!(*existing, winners[0].run_id);
        } else {
            assert!(result.is_ok(), "{result:?}");
        }
    }

    store.start(winners[0], now()).await.unwrap();
    store.finish(winners[0], now()).await.unwrap();
    assert!(store
        .request(&context(connection), SyncTrigger::Manual, now())
        .await
        .is_ok());
}

#[tokio::test]
async fn a_batch_for_a_run_that_has_not_started_is_refused_and_writes_nothing() {
    let db = TestDatabase::create().await;
    let store = PgSyncStore::new(db.pool().clone());
    let ctx = context(ConnectionId::new());
    store
        .request(&ctx, SyncTrigger::Manual, now())
        .await
        .unwrap();

    let refused = store
        .commit_batch(&ctx, vec![seen(a_confirmed_order(1, 1))], cursor(1, 1))
        .await;
    assert!(
        matches!(
            refused,
            Err(SyncStoreError::Run(RunError::WrongStatus(
                RunStatus::Pending
            )))
        ),
        "{refused:?}"
    );
    assert_eq!(count(&db, "SELECT count(*) FROM held_orders").await, 0);
    assert_eq!(count(&db, "SELECT count(*) FROM sync_cursors").await, 0);
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM events WHERE aggregate_type = 'sales_order'"
        )
        .await,
        0
    );
}

#[tokio::test]
async fn a_run_written_by_the_engine_loads_as_a_sync_run_aggregate() {
    let db = TestDatabase::create().await;
    let store = PgSyncStore::new(db.pool().clone());
    let ctx = started_run(&store, ConnectionId::new()).await;
    store
        .commit_batch(
            &ctx,
            (1..=4).map(|id| seen(a_confirmed_order(id, 1))).collect(),
            cursor(9, 4),
        )
        .await
        .unwrap();
    store
        .commit_batch(
            &ctx,
            (5..=6).map(|id| seen(a_confirmed_order(id, 1))).collect(),
            cursor(9, 6),
        )
        .await
        .unwrap();
    store.finish(&ctx, now()).await.unwrap();

    let runs = PgAggregateStore::<SyncRun>::new(db.pool().clone());
    let run = runs.load(&ctx.run_id.to_string()).await.unwrap();
    assert_eq!(run.status, RunStatus::ResolutionRequired);
    assert_eq!((run.counts.imported, run.counts.unmapped_lines), (6, 6));
    assert_eq!(run.cursor, cursor(9, 6));
    let status: String = sqlx::query_scalar("SELECT status FROM sync_runs")
        .fetch_one(db.pool())
        .await
        .unwrap();
    assert_eq!(status, "RESOLUTION_REQUIRED");
}

#[tokio::test]
async fn the_stored_cursor_never_moves_back() {
    let db = TestDatabase::create().await;
    let store = PgSyncStore::new(db.pool().clone());
    let ctx = started_run(&store, ConnectionId::new()).await;
    store
        .commit_batch(&ctx, vec![], cursor(9, 6))
        .await
        .unwrap();
    store
        .commit_batch(&ctx, vec![], cursor(5, 1))
        .await
        .unwrap();
    assert_eq!(
        store.cursor(&ctx.account_id, &ctx.source).await.unwrap(),
        cursor(9, 6)
    );
    store
        .commit_batch(&ctx, vec![], cursor(9, 8))
        .await
        .unwrap();
    assert_eq!(
        store.cursor(&ctx.account_id, &ctx.source).await.unwrap(),
        cursor(9, 8)
    );
}

#[tokio::test]
async fn a_run_that_stopped_recording_is_closed_as_interrupted_when_the_next_is_asked_for() {
    let db = TestDatabase::create().await;
    let store =
        PgSyncStore::with_stale_after(db.pool().clone(), std::time::Duration::from_secs(60));
    let connection = ConnectionId::new();
    let dead = started_run(&store, connection).await;
    let fresh = context(connection);
    let refused = store.request(&fresh, SyncTrigger::Manual, now()).await;
    assert!(matches!(refused, Err(SyncStoreError::RunInProgress(id)) if id == dead.run_id));

    sqlx::query("UPDATE sync_runs SET heartbeat_at = now() - interval '2 minutes'")
        .execute(db.pool())
        .await
        .unwrap();
    store
        .request(&fresh, SyncTrigger::Manual, now())
        .await
        .unwrap();

    let runs = PgAggregateStore::<SyncRun>::new(db.pool().clone());
    let closed = runs.load(&dead.run_id.to_string()).await.unwrap();
    assert_eq!(closed.status, RunStatus::Failed);
    assert_eq!(closed.failure.unwrap().code, "INTERRUPTED");
    let pending = runs.load(&fresh.run_id.to_string()).await.unwrap();
    assert_eq!(pending.status, RunStatus::Pending);
}

#[tokio::test]
async fn the_sweeper_closes_runs_whose_process_died_and_only_those() {
    let db = TestDatabase::create().await;
    let store =
        PgSyncStore::with_stale_after(db.pool().clone(), std::time::Duration::from_secs(60));
    let dead = started_run(&store, ConnectionId::new()).await;
    let alive = started_run(&store, ConnectionId::new()).await;
    sqlx::query(
        "UPDATE sync_runs SET heartbeat_at = now() - interval '5 minutes' WHERE run_id = $1",
    )
    .bind(dead.run_id.to_string())
    .execute(db.pool())
    .await
    .unwrap();

    assert_eq!(store.interrupt_stale().await.unwrap(), 1);
    assert_eq!(store.interrupt_stale().await.unwrap(), 0);
    let runs = PgAggregateStore::<SyncRun>::new(db.pool().clone());
    let closed = runs.load(&dead.run_id.to_string()).await.unwrap();
    assert_eq!(
        closed.failure.map(|f| f.code),
        Some("INTERRUPTED".to_owned())
    );
    assert_eq!(
        runs.load(&alive.run_id.to_string()).await.unwrap().status,
        RunStatus::Running
    );
    let actor: String = sqlx::query_scalar(
        "SELECT metadata ->> 'actor' FROM events WHERE event_type = 'SyncFailed'",
    )
    .fetch_one(db.pool())
    .await
    .unwrap();
    assert_eq!(actor, "system");
}

#[tokio::test]
async fn batches_of_two_connections_to_one_source_keep_each_orders_events_in_sequence_in_the_log() {
    let db = TestDatabase::create().await;
    let store = PgSyncStore::new(db.pool().clone());
    let first = started_run(&store, ConnectionId::new()).await;
    let second = started_run(&store, ConnectionId::new()).await;
    assert_eq!(first.source, second.source);

    for round in 0..40_i64 {
        let orders =
            |shift: i64| (1..=5).map(move |id| seen(a_confirmed_order(id, 2 * round + shift)));
        let (a, b) = tokio::join!(
            store.commit_batch(&first, orders(1).collect(), None),
            store.commit_batch(&second, orders(2).collect(), None),
        );
        a.unwrap();
        b.unwrap();
    }

    let out_of_sequence = count(
        &db,
        "SELECT count(*) FROM (
           SELECT sequence, lag(sequence) OVER (PARTITION BY aggregate_id
                                                ORDER BY transaction_id, global_position) AS before
             FROM events WHERE aggregate_type = 'sales_order') AS log
          WHERE sequence <> before + 1",
    )
    .await;
    assert_eq!(out_of_sequence, 0);
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM events WHERE aggregate_type = 'sales_order'"
        )
        .await,
        5 * 80
    );
}

#[tokio::test]
async fn a_large_order_event_is_stored_with_lz4_where_the_server_has_it() {
    let db = TestDatabase::create().await;
    let store = PgSyncStore::new(db.pool().clone());
    let ctx = started_run(&store, ConnectionId::new()).await;
    let mut order = a_confirmed_order(1, 2);
    let line = order.lines[0].clone();
    order.lines = (0..40)
        .map(|n| ImportedLine {
            source_line_id: n,
            description: format!("Croissant, butter, batch {n}"),
            ..line.clone()
        })
        .collect();

    store
        .commit_batch(&ctx, vec![seen(order.clone())], cursor(5, 1))
        .await
        .unwrap();

    let has_lz4 = count(
        &db,
        "SELECT count(*) FROM pg_settings
          WHERE name = 'default_toast_compression' AND 'lz4' = ANY(enumvals)",
    )
    .await;
    let (method, lines): (Option<String>, i32) = sqlx::query_as(
        "SELECT pg_column_compression(payload), jsonb_array_length(payload -> 'order' -> 'lines')
           FROM events WHERE event_type = 'OrderImported'",
    )
    .fetch_one(db.pool())
    .await
    .unwrap();
    let expected = if has_lz4 == 1 { "lz4" } else { "pglz" };
    assert_eq!(method.as_deref(), Some(expected));
    assert_eq!(lines, 40);
}

async fn schedule(db: &TestDatabase, ctx: &RunContext, automatic: bool, active: bool) {
    sqlx::query(
        "INSERT INTO connection_schedules (connection_id, account_id, automatic, active, interval_seconds, credentials)
         VALUES ($1, 'acme', $2, $3, 60, 'c')",
    )
    .bind(ctx.connection_id.to_string())
    .bind(automatic)
    .bind(active)
    .execute(db.pool())
    .await
    .unwrap();
}

#[tokio::test]
async fn a_scheduled_run_is_recorded_only_while_the_connections_schedule_runs() {
    let db = TestDatabase::create().await;
    let store = PgSyncStore::new(db.pool().clone());
    let cases = [
        (true, true, true),
        (false, true, false),
        (true, false, false),
    ];

    for (automatic, active, recorded) in cases {
        let ctx = context(ConnectionId::new());
        schedule(&db, &ctx, automatic, active).await;
        let asked = store.request(&ctx, SyncTrigger::Scheduled, now()).await;
        assert_eq!(asked.is_ok(), recorded, "{automatic} {active}: {asked:?}");
        if !recorded {
            assert!(matches!(asked, Err(SyncStoreError::ScheduleStopped)));
            store
                .request(&ctx, SyncTrigger::Manual, now())
                .await
                .unwrap();
        }
    }
    assert_eq!(count(&db, "SELECT count(*) FROM sync_runs").await, 3);
}

#[tokio::test]
async fn a_switch_to_manual_committing_while_a_scheduled_run_is_asked_for_wins_or_waits() {
    let db = TestDatabase::create().await;
    let store = PgSyncStore::new(db.pool().clone());
    let ctx = context(ConnectionId::new());
    schedule(&db, &ctx, true, true).await;

    let mut switch = db.pool().begin().await.unwrap();
    sqlx::query("UPDATE connection_schedules SET automatic = false WHERE connection_id = $1")
        .bind(ctx.connection_id.to_string())
        .execute(&mut *switch)
        .await
        .unwrap();
    let asking = tokio::spawn({
        let (store, ctx) = (store.clone(), ctx.clone());
        async move { store.request(&ctx, SyncTrigger::Scheduled, now()).await }
    });
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(!asking.is_finished(), "the request waits for the switch");
    switch.commit().await.unwrap();

    let asked = asking.await.unwrap();
    assert!(
        matches!(asked, Err(SyncStoreError::ScheduleStopped)),
        "{asked:?}"
    );
    assert_eq!(count(&db, "SELECT count(*) FROM sync_runs").await, 0);
}
