//! Contract test: every recorded exchange with a real Odoo 18.0 and 19.0 server is replayed
//! against the sandbox set to that version, loaded with the data set the recordings were made
//! on. The sandbox must answer with the same HTTP status, content type, redirect target, body
//! structure (JSON shape or XML-RPC value structure) and error identity (fault code, exception
//! type, JSON-RPC `error.code`, exception name). Successful answers must also hold the same
//! values (ids, counts, records), except `expected_date`, which Odoo computes at read time.
//! Error messages must match too (the last line of a fault 1 traceback), except where they
//! quote Python's JSON parser. Byte-exact formatting is not compared.
//!
//! The recordings live in `shared/odoo` beside the repository: `../../shared/odoo` from this
//! crate's manifest in the working tree, `../shared/odoo` from the repository root in CI.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::path::{Path, PathBuf};

use odoo_sandbox::xmlrpc::{parse_response, MethodResponse};
use odoo_sandbox::{Dataset, Sandbox, SandboxConfig, SandboxUser, UserKind};
use serde_json::Value;

/// Cursor pages ordered by `write_date` whose rows were written in separate transactions within
/// one printed second: the data set has no microseconds, so which rows come first is unknown.
/// For these only the number of records and their keys are compared.
const ORDER_WITHIN_SECOND_UNKNOWN: [&str; 6] = [
    "29-xmlrpc-search-read-write-date-cursor",
    "30-jsonrpc-search-read-write-date-cursor",
    "33-xmlrpc-search-read-same-second-cursor",
    "34-jsonrpc-search-read-same-second-cursor",
    "50-json2-search-read-write-date-cursor",
    "52-json2-search-read-same-second-cursor",
];

/// Errors whose message quotes Python's JSON parser, which words its errors differently.
const PARSER_WORDING: [&str; 1] = ["46-json2-invalid-json-body"];

/// Web-client routes a sync client never calls.
const SKIPPED: [&str; 2] = [
    "97-json1-bearer-single-db",
    "16-json2-web-search-read-nested",
];

fn shared_odoo() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let candidates = [
        manifest.join("../../shared/odoo"),
        manifest.join("../shared/odoo"),
    ];
    candidates
        .into_iter()
        .find(|p| p.join("transcripts").is_dir())
        .unwrap_or_else(|| {
            panic!(
                "no shared/odoo beside the repository of {}",
                manifest.display()
            )
        })
}

struct Case {
    name: String,
    dir: PathBuf,
    meta: Value,
}

fn cases(version: &str) -> Vec<Case> {
    let root = shared_odoo().join("transcripts").join(version);
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    dirs.into_iter()
        .map(|dir| {
            let meta: Value =
                serde_json::from_str(&std::fs::read_to_string(dir.join("case.json")).unwrap())
                    .unwrap();
            Case {
                name: dir.file_name().unwrap().to_string_lossy().into_owned(),
                dir,
                meta,
            }
        })
        .filter(|case| !SKIPPED.contains(&case.name.as_str()))
        .collect()
}

async fn recorded_sandbox(version: u8, databases: &[&str]) -> Sandbox {
    let config = SandboxConfig::new(version)
        .with_databases(databases.iter().copied())
        .with_dataset(Dataset::Recorded {
            dir: shared_odoo().join("datasets"),
        });
    Sandbox::start(config).await.unwrap()
}

/// The user a recorded request was made as: the no-access user when the case says so.
fn caller(sandbox: &Sandbox, case: &Case) -> SandboxUser {
    let shows = case.meta["shows"].as_str().unwrap_or_default();
    let uid = case.meta["request"]["rpc"]["uid"].as_i64();
    let noaccess =
        shows.contains("noaccess") || uid == Some(sandbox.user(UserKind::NoSalesAccess).uid);
    sandbox.user(if noaccess {
        UserKind::NoSalesAccess
    } else {
        UserKind::SalesAll
    })
}

fn with_secrets(text: &str, user: &SandboxUser, api_user: &SandboxUser) -> String {
    let expired = api_user.expired_api_key.clone().unwrap_or_default();
    text.replace("&lt;API_KEY&gt;", &user.api_key)
        .replace("<API_KEY>", &user.api_key)
        .replace("&lt;PASSWORD&gt;", &user.password)
        .replace("<PASSWORD>", &user.password)
        .replace("<EXPIRED_API_KEY>", &expired)
}

async fn replay(sandbox: &Sandbox, case: &Case) -> support::Answer {
    let user = caller(sandbox, case);
    let api_user = sandbox.user(UserKind::SalesAll);
    let request = &case.meta["request"];
    let skip = ["host", "content-length", "connection"];
    let headers: Vec<(String, String)> = request["headers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            (
                h[0].as_str().unwrap().to_owned(),
                with_secrets(h[1].as_str().unwrap(), &user, &api_user),
            )
        })
        .filter(|(name, _)| !skip.contains(&name.to_lowercase().as_str()))
        .collect();
    let body_file = ["request.body.xml", "request.body.json"]
        .iter()
        .map(|f| case.dir.join(f))
        .find(|p| p.exists());
    let body = body_file
        .map(|p| with_secrets(&std::fs::read_to_string(p).unwrap(), &user, &api_user))
        .unwrap_or_default();
    let method = request["method"].as_str().unwrap();
    let path = request["path"].as_str().unwrap();
    support::send(sandbox.addr(), method, path, &headers, body.as_bytes())
        .await
        .unwrap()
}

fn normalized(content_type: &str) -> String {
    content_type.to_lowercase().replace(' ', "")
}

/// Compares a replayed answer with the recording; returns the differences.
fn compare(case: &Case, answer: &support::Answer) -> Vec<String> {
    let response = &case.meta["response"];
    let mut problems = Vec::new();
    let status = response["status"].as_u64().unwrap() as u16;
    if answer.status != status {
        problems.push(format!("status {} instead of {status}", answer.status));
    }
    let content_type = response["content_type"].as_str().unwrap_or_default();
    if normalized(answer.header("content-type").unwrap_or_default()) != normalized(content_type) {
        problems.push(format!(
            "content type {:?} instead of {content_type:?}",
            answer.header("content-type")
        ));
    }
    compare_headers(response, answer, &mut problems);
    let body_file = case.dir.join(
        response["body_file"]
            .as_str()
            .unwrap_or("response.body.html"),
    );
    let recorded = std::fs::read_to_string(&body_file).unwrap_or_default();
    let keys_only = ORDER_WITHIN_SECOND_UNKNOWN.contains(&case.name.as_str());
    match body_file.extension().and_then(|e| e.to_str()) {
        Some("json") => compare_json_bodies(case, &recorded, answer, keys_only, &mut problems),
        Some("xml") => compare_xml_bodies(&recorded, answer, keys_only, &mut problems),
        _ => {}
    }
    problems
}

fn compare_headers(response: &Value, answer: &support::Answer, problems: &mut Vec<String>) {
    for (name, value) in response["headers"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|h| Some((h[0].as_str()?, h[1].as_str()?)))
    {
        let wanted = matches!(
            name.to_lowercase().as_str(),
            "location" | "www-authenticate" | "retry-after"
        );
        if wanted && answer.header(name).map(str::trim) != Some(value.trim()) {
            problems.push(format!(
                "header {name} {:?} instead of {value:?}",
                answer.header(name)
            ));
        }
    }
}

fn compare_json_bodies(
    case: &Case,
    recorded: &str,
    answer: &support::Answer,
    keys_only: bool,
    problems: &mut Vec<String>,
) {
    let expected: Value = serde_json::from_str(recorded).unwrap();
    let Ok(actual) = serde_json::from_slice::<Value>(&answer.body) else {
        problems.push(format!("body is not JSON: {}", answer.text()));
        return;
    };
    shape(&expected, &actual, "$", keys_only, problems);
    if !keys_only && expected.get("error").is_none() && expected.get("debug").is_none() {
        same_values(&expected, &actual, "$", problems);
    }
    let mut pointers = vec!["/error/code", "/error/data/name", "/name"];
    if !PARSER_WORDING.contains(&case.name.as_str()) {
        pointers.extend(["/error/data/message", "/message"]);
    }
    for pointer in pointers {
        if expected.pointer(pointer) != actual.pointer(pointer) {
            problems.push(format!(
                "{pointer} {:?} instead of {:?}",
                actual.pointer(pointer),
                expected.pointer(pointer)
            ));
        }
    }
}

fn compare_xml_bodies(
    recorded: &str,
    answer: &support::Answer,
    keys_only: bool,
    problems: &mut Vec<String>,
) {
    let expected = parse_response(recorded).unwrap();
    let actual = match parse_response(&answer.text()) {
        Ok(actual) => actual,
        Err(e) => return problems.push(format!("body is not XML-RPC ({e}): {}", answer.text())),
    };
    match (&expected, &actual) {
        (MethodResponse::Value(e), MethodResponse::Value(a)) => {
            shape(e, a, "$", keys_only, problems);
            if !keys_only {
                same_values(e, a, "$", problems);
            }
        }
        (
            MethodResponse::Fault {
                code: ec,
                string: es,
            },
            MethodResponse::Fault {
                code: ac,
                string: as_,
            },
        ) => {
            if ec != ac {
                problems.push(format!("fault code {ac} instead of {ec}"));
            }
            if *ec == 1 && exception_type(es) != exception_type(as_) {
                problems.push(format!(
                    "exception {} instead of {}",
                    exception_type(as_),
                    exception_type(es)
                ));
            }
            if last_line(es) != last_line(as_) {
                problems.push(format!(
                    "fault {:?} instead of {:?}",
                    last_line(as_),
                    last_line(es)
                ));
            }
        }
        _ => problems.push(format!("answer {actual:?} instead of {expected:?}")),
    }
}

fn last_line(text: &str) -> &str {
    text.lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or_default()
}

/// The exception type on the last line of a traceback (`ValueError: ...` → `ValueError`).
fn exception_type(traceback: &str) -> String {
    let last = traceback
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or_default();
    last.split(':').next().unwrap_or_default().to_owned()
}

/// Same structure: same object keys, same array lengths, same scalar kinds (int, float,
/// string, boolean, null). With `keys_only`, the values of record fields are not compared.
fn shape(expected: &Value, actual: &Value, at: &str, keys_only: bool, problems: &mut Vec<String>) {
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => {
            let missing: Vec<&String> = e.keys().filter(|k| !a.contains_key(*k)).collect();
            let extra: Vec<&String> = a.keys().filter(|k| !e.contains_key(*k)).collect();
            if !missing.is_empty() || !extra.is_empty() {
                problems.push(format!("{at}: keys missing {missing:?}, extra {extra:?}"));
            }
            if keys_only {
                return;
            }
            for (key, value) in e
                .iter()
                .filter_map(|(k, v)| Some((k, v, a.get(k)?)))
                .map(|(k, v, av)| (k, (v, av)))
            {
                shape(
                    value.0,
                    value.1,
                    &format!("{at}.{key}"),
                    keys_only,
                    problems,
                );
            }
        }
        (Value::Array(e), Value::Array(a)) => {
            if e.len() != a.len() {
                problems.push(format!("{at}: {} items instead of {}", a.len(), e.len()));
            }
            for (index, (e, a)) in e.iter().zip(a).enumerate() {
                shape(e, a, &format!("{at}[{index}]"), keys_only, problems);
            }
        }
        (e, a) if kind(e) != kind(a) => {
            problems.push(format!("{at}: {} {a} instead of {} {e}", kind(a), kind(e)))
        }
        _ => {}
    }
}

/// Same scalar values, except `expected_date`, which Odoo computes from the time of reading.
fn same_values(expected: &Value, actual: &Value, at: &str, problems: &mut Vec<String>) {
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => {
            for (key, value) in e.iter().filter(|(k, _)| k.as_str() != "expected_date") {
                if let Some(other) = a.get(key) {
                    same_values(value, other, &format!("{at}.{key}"), problems);
                }
            }
        }
        (Value::Array(e), Value::Array(a)) => {
            for (index, (e, a)) in e.iter().zip(a).enumerate() {
                same_values(e, a, &format!("{at}[{index}]"), problems);
            }
        }
        (e, a) if e != a && !(e.is_number() && e.as_f64() == a.as_f64()) => {
            problems.push(format!("{at}: {a} instead of {e}"));
        }
        _ => {}
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_f64() => "float",
        Value::Number(_) => "int",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

async fn check_all(sandboxes: &[(&str, &Sandbox)], version: &str) {
    let mut failures = Vec::new();
    let mut replayed = 0;
    for case in cases(version) {
        let instance = case.meta["server_instance"].as_str().unwrap_or_default();
        let sandbox = sandboxes
            .iter()
            .find(|(marker, _)| instance.contains(marker))
            .map_or(sandboxes[0].1, |(_, s)| s);
        let answer = replay(sandbox, &case).await;
        let problems = compare(&case, &answer);
        replayed += 1;
        if !problems.is_empty() {
            failures.push(format!("{}:\n  {}", case.name, problems.join("\n  ")));
        }
    }
    assert!(replayed > 50, "only {replayed} cases found for {version}");
    assert!(
        failures.is_empty(),
        "{} of {replayed} cases differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[tokio::test]
async fn every_recorded_odoo_18_exchange_is_answered_alike() {
    let several = recorded_sandbox(18, &["prepstation_demo", "second_db"]).await;
    let single = recorded_sandbox(18, &["prepstation_demo"]).await;

    check_all(
        &[("port 8069", &several), ("port 8070", &single)],
        "odoo-18.0",
    )
    .await;
}

#[tokio::test]
async fn every_recorded_odoo_19_exchange_is_answered_alike() {
    let sandbox = recorded_sandbox(19, &["prepstation19"]).await;

    check_all(&[("port 8071", &sandbox)], "odoo-19.0").await;
}
