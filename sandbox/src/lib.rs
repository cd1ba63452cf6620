//! An in-memory HTTP server that behaves like Odoo 13 to 19 for everything a read-only sales
//! order sync does: XML-RPC, JSON-RPC and (on 19) JSON-2, with the recorded answers, fault codes
//! and HTTP statuses of real servers. It is for tests and demos only, never for production.
//!
//! Layout:
//! - [`cli`]: the command line of `odoo-sandbox` and `prepsync sandbox`;
//! - [`config`]: versions, databases, data sets, users and the per-version behaviour;
//! - [`data`], [`generate`], [`store`], [`schema`]: the in-memory databases and their models;
//! - [`persist`]: the data kept in a directory across restarts;
//! - [`domain`], [`orm`]: domain evaluation and the model methods, shared by all protocols;
//! - [`rpc`], [`json2`], [`web`], [`http`], [`server`], [`xmlrpc`]: the HTTP front ends;
//! - [`control`], [`control_http`], [`faults`]: the test handle (data changes, late commits,
//!   faults, call log), also over HTTP under `/__sandbox/`.
//!
//! Writes over RPC are always refused; data changes only through [`Control`].

#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

pub mod cli;
pub mod config;
pub mod control;
pub mod control_http;
pub mod data;
pub mod domain;
pub mod error;
pub mod faults;
pub mod generate;
pub mod http;
pub mod json2;
pub mod orm;
pub mod persist;
pub mod rpc;
pub mod schema;
pub mod server;
pub mod state;
pub mod store;
pub mod web;
pub mod xmlrpc;

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use config::{Dataset, SandboxConfig, SandboxUser, UserKind};
pub use control::{
    Control, ControlError, LineChanges, NewLine, NewOrder, OrderChanges, Transaction,
};
pub use error::OdooError;
pub use faults::{CallMatcher, CallRecord, Fault, FaultRule};

use crate::config::{users_for, Profile};
use crate::state::Shared;

/// A running sandbox server.
#[derive(Debug)]
pub struct Sandbox {
    addr: SocketAddr,
    key_seed: u64,
    shared: Arc<Shared>,
    databases: Vec<String>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl Sandbox {
    /// Starts a sandbox on a free port of 127.0.0.1.
    pub async fn start(config: SandboxConfig) -> std::io::Result<Sandbox> {
        Sandbox::start_on(config, SocketAddr::from(([127, 0, 0, 1], 0))).await
    }

    /// Starts a sandbox on an address.
    pub async fn start_on(config: SandboxConfig, addr: SocketAddr) -> std::io::Result<Sandbox> {
        let key_seed = config.key_seed;
        let shared = Arc::new(build_state(config).await?);
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let (stop, stopped) = oneshot::channel();
        let router = http::router(shared.clone());
        let task = tokio::spawn(server::serve(listener, router, stopped));
        tracing::info!(%addr, version = shared.profile.version, "odoo sandbox started");
        let databases = shared.database_names();
        Ok(Sandbox {
            addr,
            key_seed,
            shared,
            databases,
            stop: Some(stop),
            task: Some(task),
        })
    }

    /// The base URL, `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The first database (the one holding the data).
    pub fn database(&self) -> &str {
        self.databases.first().map_or("", String::as_str)
    }

    /// The credentials of a kind of user.
    pub fn user(&self, kind: UserKind) -> SandboxUser {
        let found = self.shared.users.iter().find(|u| u.kind == kind).cloned();
        found.unwrap_or_else(|| config::user_for(self.shared.profile.version, self.key_seed, kind))
    }

    /// The control handle: data changes, faults, call log.
    pub fn control(&self) -> Control {
        Control::new(self.shared.clone())
    }

    /// Stops the server and waits for it to end.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Builds the shared state of a configuration (loading a recorded data set off the runtime).
async fn build_state(config: SandboxConfig) -> std::io::Result<Shared> {
    if !(13..=19).contains(&config.version) {
        let message = format!("the sandbox serves Odoo 13 to 19, not {}", config.version);
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            message,
        ));
    }
    let built = tokio::task::spawn_blocking(move || {
        let users = users_for(config.version, config.key_seed);
        let mut databases = data::build_databases(&config, &users)?;
        let profile = Profile {
            version: config.version,
        };
        let files = config
            .data_dir
            .as_deref()
            .map(|dir| persist::DataFiles::in_dir(dir, config.version));
        if let (Some(files), Some(first)) = (&files, databases.first_mut()) {
            control::replay(first, config.version, &files.changes)?;
        }
        let mut shared = Shared::new(profile, users, databases);
        shared.list_databases = config.list_databases;
        shared.changes_file = files.map(|f| f.changes);
        Ok::<_, data::DatasetError>(shared)
    });
    built
        .await
        .map_err(std::io::Error::other)?
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))
}
