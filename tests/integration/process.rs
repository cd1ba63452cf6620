//! The real `prepsync` binary: serving, health, graceful shutdown, key rotation, and logs that
//! never carry a key.

use std::time::Duration;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use prepsync_tests::free_port;
use prepsync_tests::{ServiceProcess, TestDatabase, JWT_SECRET};
use secrecy::ExposeSecret;
use serde_json::{json, Value};

use crate::secrets::rows_containing;

fn env(db: &TestDatabase, master_key: &str, port: u16) -> Vec<(&'static str, String)> {
    vec![
        ("DATABASE_URL", db.url().to_owned()),
        ("PREPSYNC_MASTER_KEY", master_key.to_owned()),
        ("PREPSYNC_JWT_SECRET", JWT_SECRET.to_owned()),
        ("PREPSYNC_LISTEN", format!("127.0.0.1:{port}")),
        ("PREPSYNC_LOG", "debug".to_owned()),
        ("PREPSYNC_ALLOW_PRIVATE_NETWORKS", "true".to_owned()),
    ]
}

async fn graphql(port: u16, token: &str, query: &str) -> Value {
    let client = prepsync_tests::http_client();
    let response = client
        .post(format!("http://127.0.0.1:{port}/graphql"))
        .bearer_auth(token)
        .json(&json!({ "query": query }))
        .send()
        .await
        .unwrap();
    response.json().await.unwrap()
}

fn run(args: &[&str], env: &[(&str, String)]) -> String {
    let mut process = ServiceProcess::start(crate::PREPSYNC, args, env);
    assert_eq!(
        process.wait_exit(Duration::from_secs(60)),
        Some(0),
        "{}",
        process.output()
    );
    process.output()
}

#[tokio::test]
async fn the_service_serves_rotates_keys_and_stops_gracefully_without_logging_a_key() {
    let db = TestDatabase::create_empty().await;
    let old_key = infrastructure::vault::KeyRing::generate_key();
    let port = free_port();
    let env = env(&db, old_key.expose_secret(), port);
    let token = run(
        &[
            "token",
            "--account",
            "acme",
            "--role",
            "admin",
            "--sub",
            "alice",
        ],
        &env,
    );

    let mut service = ServiceProcess::start(crate::PREPSYNC, &["serve"], &env);
    service.wait_for_output("serving", Duration::from_secs(60));
    let client = prepsync_tests::http_client();
    let health = client
        .get(format!("http://127.0.0.1:{port}/readyz"))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status().as_u16(), 200);

    let created = graphql(port, token.trim(), "mutation { createConnection(input: { name: \"Main\", url: \"https://acme.example.com\", database: \"acme\", username: \"api\", apiKey: \"process-plaintext-key-93ab\" }) { id apiKeySet } }").await;
    assert_eq!(
        created["data"]["createConnection"]["apiKeySet"], true,
        "{created}"
    );

    service.signal("TERM");
    assert_eq!(
        service.wait_exit(Duration::from_secs(20)),
        Some(0),
        "{}",
        service.output()
    );
    assert!(service.output().contains("stopped"));

    let new_key = BASE64.encode([7u8; 32]);
    let mut rotated_env = env.clone();
    rotated_env.retain(|(key, _)| *key != "PREPSYNC_MASTER_KEY");
    rotated_env.push(("PREPSYNC_MASTER_KEY", new_key));
    rotated_env.push(("PREPSYNC_MASTER_KEY_ID", "k2".to_owned()));
    rotated_env.push((
        "PREPSYNC_OLD_MASTER_KEYS",
        format!("k1:{}", old_key.expose_secret()),
    ));
    let rotation = run(&["rotate-key"], &rotated_env);
    assert!(rotation.contains("resealed 1 keys"), "{rotation}");
    let again = run(&["rotate-key"], &rotated_env);
    assert!(
        again.contains("resealed 0 keys; 1 already current"),
        "{again}"
    );

    let resealed: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM events WHERE event_type = 'ApiKeyResealed' AND payload -> 'api_key' ->> 'key_id' = 'k2'
           AND metadata ->> 'actor' = 'system'",
    )
    .fetch_one(db.pool())
    .await
    .unwrap();
    assert_eq!(resealed, 1);

    for output in [service.output(), rotation, again] {
        assert!(
            !output.contains("process-plaintext-key"),
            "a key reached the log:\n{output}"
        );
        assert!(
            !output.contains(old_key.expose_secret()),
            "a master key reached the log"
        );
    }
    assert!(rows_containing(db.pool(), "process-plaintext-key")
        .await
        .is_empty());
}

#[tokio::test]
async fn the_service_refuses_to_start_without_a_master_key() {
    let db = TestDatabase::create_empty().await;
    let mut env = env(&db, "", free_port());
    env.retain(|(key, _)| *key != "PREPSYNC_MASTER_KEY");
    let mut service = ServiceProcess::start(crate::PREPSYNC, &["serve"], &env);
    assert_eq!(service.wait_exit(Duration::from_secs(60)), Some(1));
    assert!(
        service.output().contains("PREPSYNC_MASTER_KEY"),
        "{}",
        service.output()
    );
}

#[tokio::test]
async fn the_service_refuses_a_different_master_key_under_a_known_id() {
    let db = TestDatabase::create().await;
    let mut config = prepsync_tests::TestApp::config(&db);
    let _first = api::state::app(db.pool().clone(), &config)
        .await
        .expect("the first key is recorded");
    config.keys.master_key = Some(infrastructure::vault::KeyRing::generate_key());
    let refused = api::state::app(db.pool().clone(), &config).await;
    assert!(matches!(
        refused,
        Err(api::state::StartError::KeyMismatch(_))
    ));
}

#[tokio::test]
async fn a_settings_file_that_is_named_but_missing_stops_the_command() {
    let env = vec![("PREPSYNC_ENV_FILE", "/nonexistent/prepsync.env".to_owned())];
    let mut process = ServiceProcess::start(crate::PREPSYNC, &["schema"], &env);
    assert_eq!(process.wait_exit(Duration::from_secs(60)), Some(1));
    assert!(
        process.output().contains("cannot read settings file"),
        "{}",
        process.output()
    );
}

#[tokio::test]
async fn an_empty_master_key_is_reported_as_missing() {
    let db = TestDatabase::create_empty().await;
    let env = env(&db, "", free_port());
    let mut service = ServiceProcess::start(crate::PREPSYNC, &["serve"], &env);
    assert_eq!(service.wait_exit(Duration::from_secs(60)), Some(1));
    assert!(
        service.output().contains("set PREPSYNC_MASTER_KEY"),
        "{}",
        service.output()
    );
}

#[tokio::test]
async fn a_token_cannot_be_issued_with_only_a_public_key() {
    let env = vec![(
        "PREPSYNC_JWT_PUBLIC_KEY",
        "-----BEGIN PUBLIC KEY-----".to_owned(),
    )];
    let mut process = ServiceProcess::start(crate::PREPSYNC, &["token", "--account", "acme"], &env);
    assert_eq!(process.wait_exit(Duration::from_secs(60)), Some(1));
    assert!(
        process
            .output()
            .contains("only PREPSYNC_JWT_PUBLIC_KEY is configured"),
        "{}",
        process.output()
    );
}
