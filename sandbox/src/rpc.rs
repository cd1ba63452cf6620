//! The legacy RPC front ends: XML-RPC (`/xmlrpc/2/common|object|db`) and JSON-RPC
//! (`/jsonrpc`). Every outcome is HTTP 200; errors travel in the body as a `<fault>` or an
//! `error` member.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::Response;
use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};
use serde_json::{json, Map, Value};

use crate::config::SandboxUser;
use crate::error::OdooError;
use crate::faults::CallRecord;
use crate::http::{json_response, respond, response, BodyKind, JSON, XML};
use crate::orm::{self, Answer, Arguments, Env, Protocol};
use crate::state::Shared;
use crate::store::{credentials_match, Database};
use crate::xmlrpc;

/// `POST /xmlrpc/2/<service>`.
pub async fn xmlrpc(
    State(shared): State<Arc<Shared>>,
    Path(service): Path<String>,
    body: Bytes,
) -> Response {
    let text = String::from_utf8_lossy(&body);
    let parsed = xmlrpc::parse_call(&text);
    let (method, params) = match &parsed {
        Ok(call) => (Some(call.method.clone()), call.params.clone()),
        Err(_) => (None, Vec::new()),
    };
    let record = call_record(
        "xmlrpc",
        &format!("/xmlrpc/2/{service}"),
        &service,
        method.as_deref(),
        &params,
    );

    respond(&shared, record, BodyKind::Xml, || match parsed {
        Ok(call) => xml_answer(dispatch(&shared, &service, &call.method, call.params)),
        Err(error) => unreadable_call(&error),
    })
    .await
}

fn xml_answer(result: Result<Value, OdooError>) -> Response {
    match result {
        Ok(value) if xmlrpc::contains_null(&value) => {
            let error =
                OdooError::TypeError("cannot marshal None unless allow_none is enabled".into());
            xml_fault(error.fault_code(), &error.fault_string())
        }
        Ok(value) => response(200, XML, xmlrpc::write_response(&value)),
        Err(error) => xml_fault(error.fault_code(), &error.fault_string()),
    }
}

/// A request that is not XML-RPC: Python's XML parser raises, fault 1.
fn unreadable_call(error: &xmlrpc::XmlRpcError) -> Response {
    let traceback = format!(
        "Traceback (most recent call last):\n  File \"odoo-sandbox\", line 1, in xmlrpc\n\
         xml.parsers.expat.ExpatError: {error}\n"
    );
    xml_fault(1, &traceback)
}

fn xml_fault(code: i64, string: &str) -> Response {
    response(200, XML, xmlrpc::write_fault(code, string))
}

/// `POST /jsonrpc`.
pub async fn jsonrpc(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    let parsed: Result<Value, _> = serde_json::from_slice(&body);
    let request = parsed.as_ref().ok();
    let params = request.and_then(|r| r.get("params"));
    let service = params
        .and_then(|p| p.get("service"))
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let method = params
        .and_then(|p| p.get("method"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    let args = params
        .and_then(|p| p.get("args"))
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let id = request
        .and_then(|r| r.get("id"))
        .cloned()
        .unwrap_or(Value::Null);
    let record = call_record("jsonrpc", "/jsonrpc", &service, method.as_deref(), &args);

    respond(&shared, record, BodyKind::Json, || {
        let result = match (&parsed, &method) {
            (Err(e), _) => Err(OdooError::BadRequest(format!("Invalid JSON data: {e}"))),
            (Ok(_), None) => Err(OdooError::BadRequest(
                "Invalid JSON-RPC request: no method".into(),
            )),
            (Ok(_), Some(method)) => {
                return answer(&shared, &service, method, args, |answer| {
                    json_rows_answer(&shared, id, answer)
                })
            }
        };
        json_answer(&shared, id, result)
    })
    .await
}

/// The JSON-RPC envelope of a result or an error; a `None` result has no `result` member.
pub fn json_answer(shared: &Shared, id: Value, result: Result<Value, OdooError>) -> Response {
    let mut body = Map::new();
    body.insert("jsonrpc".into(), json!("2.0"));
    body.insert("id".into(), id);
    match result {
        Ok(Value::Null) => {}
        Ok(value) => {
            body.insert("result".into(), value);
        }
        Err(error) => {
            let code = shared.profile.jsonrpc_error_code();
            body.insert(
                "error".into(),
                json!({"code": code, "message": "Odoo Server Error", "data": error.serialize()}),
            );
        }
    }
    json_response(200, &Value::Object(body))
}

/// The JSON-RPC envelope of an answer whose rows are written straight into the body.
fn json_rows_answer(shared: &Shared, id: Value, answer: Result<Answer<'_>, OdooError>) -> Response {
    let rows = match answer {
        Ok(Answer::Rows(rows)) => rows,
        other => return json_answer(shared, id, other.map(Answer::into_value)),
    };
    let mut envelope = Map::new();
    envelope.insert("jsonrpc".into(), json!("2.0"));
    envelope.insert("id".into(), id);
    envelope.insert("result".into(), Value::Null);
    let body = Envelope {
        envelope: &envelope,
        result: &rows,
    };
    response(200, JSON, serde_json::to_vec(&body).unwrap_or_default())
}

/// A JSON-RPC envelope whose `result` member is written from rows.
struct Envelope<'a, R> {
    envelope: &'a Map<String, Value>,
    result: &'a R,
}

impl<R: Serialize> Serialize for Envelope<'_, R> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.envelope.len()))?;
        for (key, value) in self.envelope {
            match key.as_str() {
                "result" => map.serialize_entry(key, self.result)?,
                _ => map.serialize_entry(key, value)?,
            }
        }
        map.end()
    }
}

fn call_record(
    protocol: &str,
    path: &str,
    service: &str,
    method: Option<&str>,
    args: &[Value],
) -> CallRecord {
    let text = |index: usize| args.get(index).and_then(Value::as_str).map(str::to_owned);
    let model_call = service == "object" && matches!(method, Some("execute_kw") | Some("execute"));
    let database = match service {
        "object" | "common" if method != Some("version") => text(0),
        _ => None,
    };
    CallRecord {
        protocol: protocol.into(),
        path: path.into(),
        service: Some(service.to_owned()),
        method: if model_call {
            text(4)
        } else {
            method.map(str::to_owned)
        },
        model: if model_call { text(3) } else { None },
        database,
    }
}

/// Runs a legacy service method.
pub fn dispatch(
    shared: &Shared,
    service: &str,
    method: &str,
    args: Vec<Value>,
) -> Result<Value, OdooError> {
    answer(shared, service, method, args, |answer| {
        answer.map(Answer::into_value)
    })
}

/// Runs a legacy service method and hands its answer to `finish` while the data it may
/// borrow is still locked for reading.
fn answer<T>(
    shared: &Shared,
    service: &str,
    method: &str,
    args: Vec<Value>,
    finish: impl FnOnce(Result<Answer<'_>, OdooError>) -> T,
) -> T {
    let value = match service {
        "common" => common(shared, method, &args),
        "object" => return object(shared, method, args, finish),
        "db" => db_service(shared, method),
        other => Err(OdooError::ValueError(format!("No such service: {other}"))),
    };
    finish(value.map(Answer::Value))
}

fn common(shared: &Shared, method: &str, args: &[Value]) -> Result<Value, OdooError> {
    match method {
        "version" => Ok(shared.profile.version_info()),
        "login" | "authenticate" => authenticate(shared, args),
        "about" => Ok(json!("See http://openerp.com")),
        other => Err(OdooError::AttributeError(format!(
            "module 'odoo.service.common' has no attribute 'exp_{other}'"
        ))),
    }
}

fn text_arg(args: &[Value], index: usize) -> &str {
    args.get(index).and_then(Value::as_str).unwrap_or_default()
}

fn authenticate(shared: &Shared, args: &[Value]) -> Result<Value, OdooError> {
    let databases = shared.read();
    let db = find_database(&databases, text_arg(args, 0))?;
    let user = db
        .user_by_login(text_arg(args, 1))
        .filter(|u| credentials_match(u, text_arg(args, 2)));
    Ok(user.map_or(Value::Bool(false), |u| json!(u.uid)))
}

/// The database named by a legacy call; an unknown name is PostgreSQL refusing the connection.
fn find_database<'a>(databases: &'a [Database], name: &str) -> Result<&'a Database, OdooError> {
    databases.iter().find(|d| d.name == name).ok_or_else(|| {
        OdooError::OperationalError(format!(
            "connection to server at \"127.0.0.1\", port 5433 failed: FATAL:  database \"{name}\" does not exist\n"
        ))
    })
}

fn db_service(shared: &Shared, method: &str) -> Result<Value, OdooError> {
    match method {
        "list" => Ok(json!(shared.database_list()?)),
        "server_version" => Ok(shared.profile.version_info()["server_version"].clone()),
        "db_exist" | "list_lang" | "list_countries" => Ok(json!(false)),
        _ => Err(OdooError::AccessDenied),
    }
}

fn object<T>(
    shared: &Shared,
    method: &str,
    mut args: Vec<Value>,
    finish: impl FnOnce(Result<Answer<'_>, OdooError>) -> T,
) -> T {
    if !matches!(method, "execute_kw" | "execute") || args.len() < 5 {
        return finish(Err(OdooError::TypeError(format!(
            "{method}() missing required positional arguments"
        ))));
    }
    let rest = args.split_off(5);
    let databases = shared.read();
    let user = find_database(&databases, text_arg(&args, 0)).and_then(|db| {
        let user = caller(db, &args)?;
        Ok((db, user))
    });
    let (db, user) = match user {
        Ok(found) => found,
        Err(error) => return finish(Err(error)),
    };
    let arguments = if method == "execute_kw" {
        execute_kw_arguments(rest)
    } else {
        Arguments::Positional {
            args: rest,
            kwargs: Map::new(),
        }
    };
    let env = Env {
        db,
        user,
        schema: &shared.schema,
        profile: shared.profile,
        protocol: Protocol::Legacy,
    };

    finish(orm::answer(
        env,
        text_arg(&args, 3),
        text_arg(&args, 4),
        arguments,
    ))
}

/// The user an `execute_kw` call logs in as, checked against its password or key.
fn caller<'a>(db: &'a Database, args: &[Value]) -> Result<&'a SandboxUser, OdooError> {
    let uid = args[1].as_i64().unwrap_or(0);
    let user = db.user(uid).ok_or_else(|| {
        OdooError::MissingError(format!(
            "Record does not exist or has been deleted.\n(Record: res.users({uid},), User: {uid})"
        ))
    })?;
    if !credentials_match(user, text_arg(args, 2)) {
        return Err(OdooError::AccessDenied);
    }
    Ok(user)
}

fn execute_kw_arguments(mut rest: Vec<Value>) -> Arguments {
    let kwargs = if rest.len() > 1 {
        rest.remove(1).as_object().cloned().unwrap_or_default()
    } else {
        Map::new()
    };
    let args = rest
        .first()
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    Arguments::Positional { args, kwargs }
}
