//! The control handle over HTTP, under `/__sandbox/` (a path Odoo never uses), for tests that
//! run the sandbox as a process:
//!
//! - `GET`/`DELETE /calls`: the call log; `POST`/`DELETE /faults`: a [`FaultRule`] as JSON;
//! - `GET /users`: every user's login, password and keys;
//! - `POST /orders` ([`NewOrder`]), `PATCH /orders/{id}` ([`OrderChanges`]),
//!   `POST /orders/{id}/cancel`, `DELETE /orders/{id}`, `POST /orders/{id}/lines` ([`NewLine`]),
//!   `PATCH /lines/{id}` ([`LineChanges`]), `DELETE /lines/{id}`;
//! - `PUT /clock` (`{"now": "2030-01-01T10:00:00.250"}` or `{"now": null}`).
//!
//! Over HTTP a `null` in a change means "unchanged": a reference or a delivery date cannot be
//! cleared this way (the Rust [`Control`] can).

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, patch, post, put};
use axum::{Json, Router};
use chrono::NaiveDateTime;
use serde_json::{json, Value};

use crate::control::{Control, ControlError, LineChanges, NewLine, NewOrder, OrderChanges};
use crate::faults::{CallRecord, FaultRule};
use crate::state::Shared;

/// The control routes, to nest under `/__sandbox`.
pub fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/calls", get(list_calls).delete(clear_calls))
        .route("/faults", post(add_fault).delete(clear_faults))
        .route("/users", get(list_users))
        .route("/orders", post(create_order))
        .route("/orders/{id}", patch(update_order).delete(delete_order))
        .route("/orders/{id}/cancel", post(cancel_order))
        .route("/orders/{id}/lines", post(add_line))
        .route("/lines/{id}", patch(update_line))
        .route("/lines/{id}", delete(delete_line))
        .route("/clock", put(set_clock))
}

fn control(shared: Arc<Shared>) -> Control {
    Control::new(shared)
}

async fn list_calls(State(shared): State<Arc<Shared>>) -> Json<Vec<CallRecord>> {
    Json(shared.calls())
}

async fn clear_calls(State(shared): State<Arc<Shared>>) -> StatusCode {
    shared.clear_calls();
    StatusCode::NO_CONTENT
}

async fn add_fault(State(shared): State<Arc<Shared>>, Json(rule): Json<FaultRule>) -> StatusCode {
    shared.inject(rule);
    StatusCode::NO_CONTENT
}

async fn clear_faults(State(shared): State<Arc<Shared>>) -> StatusCode {
    shared.clear_faults();
    StatusCode::NO_CONTENT
}

async fn list_users(State(shared): State<Arc<Shared>>) -> Json<Vec<Value>> {
    let users = shared.users.iter().map(|u| {
        json!({
            "kind": format!("{:?}", u.kind),
            "uid": u.uid,
            "login": u.login,
            "password": u.password,
            "api_key": u.api_key,
            "expired_api_key": u.expired_api_key,
        })
    });
    Json(users.collect())
}

/// A control result as HTTP: the new id, no content, or 404 with the reason.
fn answer(result: Result<Option<i64>, ControlError>) -> Response {
    match result {
        Ok(Some(id)) => (StatusCode::CREATED, Json(json!({"id": id}))).into_response(),
        Ok(None) => StatusCode::NO_CONTENT.into_response(),
        Err(error) => {
            let status = match error {
                ControlError::NotSaved(_) => StatusCode::INTERNAL_SERVER_ERROR,
                _ => StatusCode::NOT_FOUND,
            };
            (status, Json(json!({"error": error.to_string()}))).into_response()
        }
    }
}

async fn create_order(State(shared): State<Arc<Shared>>, Json(order): Json<NewOrder>) -> Response {
    answer(control(shared).create_order(order).map(Some))
}

async fn update_order(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<i64>,
    Json(changes): Json<OrderChanges>,
) -> Response {
    answer(control(shared).update_order(id, changes).map(|_| None))
}

async fn cancel_order(State(shared): State<Arc<Shared>>, Path(id): Path<i64>) -> Response {
    answer(control(shared).cancel_order(id).map(|_| None))
}

async fn delete_order(State(shared): State<Arc<Shared>>, Path(id): Path<i64>) -> Response {
    answer(control(shared).delete_order(id).map(|_| None))
}

async fn add_line(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<i64>,
    Json(line): Json<NewLine>,
) -> Response {
    answer(control(shared).add_line(id, line).map(Some))
}

async fn update_line(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<i64>,
    Json(changes): Json<LineChanges>,
) -> Response {
    answer(control(shared).update_line(id, changes).map(|_| None))
}

async fn delete_line(State(shared): State<Arc<Shared>>, Path(id): Path<i64>) -> Response {
    answer(control(shared).delete_line(id).map(|_| None))
}

/// The body of `PUT /clock`.
#[derive(Debug, serde::Deserialize)]
struct Clock {
    now: Option<NaiveDateTime>,
}

async fn set_clock(State(shared): State<Arc<Shared>>, Json(clock): Json<Clock>) -> StatusCode {
    shared.set_now(clock.now);
    StatusCode::NO_CONTENT
}
