//! How a sandbox is set up: server version, databases, data, users.

use std::path::PathBuf;

use chrono::NaiveDateTime;

/// What a sandbox serves.
#[derive(Debug, Clone)]
pub struct SandboxConfig {
    /// The Odoo major version to behave like (13 to 19).
    pub version: u8,
    /// The databases the server serves; the first holds the data and the users, the others
    /// are empty databases with only the administrator (like a fresh `base` database).
    pub databases: Vec<String>,
    /// The sales data of the first database.
    pub dataset: Dataset,
    /// Generated orders are written before this instant; later writes use the clock.
    pub generated_until: NaiveDateTime,
    /// Seed of the users' API keys.
    pub key_seed: u64,
    /// Whether the database list is served (`db.list`, `/web/database/list`); Odoo's
    /// `--no-database-list` makes both raise `AccessDenied`.
    pub list_databases: bool,
    /// Where the first database's rows and the changes made through [`crate::Control`] are
    /// kept across restarts (see [`crate::persist`]); in memory only when `None`.
    pub data_dir: Option<PathBuf>,
}

/// Where the first database's sales data comes from.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Dataset {
    /// No orders at all (products and units are still there).
    Empty,
    /// Deterministic generated orders: the same seed gives the same data.
    Generated {
        /// How many orders.
        orders: usize,
        /// The generator seed.
        seed: u64,
    },
    /// The shared recorded data set of that version, read from this folder
    /// (`odoo-18.0-demo-orders.jsonl`, `odoo-19.0-orders.jsonl`, ...).
    Recorded {
        /// The folder holding the data set files.
        dir: PathBuf,
    },
}

impl SandboxConfig {
    /// One database `prepstation` with 200 generated orders (seed 1).
    pub fn new(version: u8) -> Self {
        Self {
            version,
            databases: vec!["prepstation".to_owned()],
            dataset: Dataset::Generated {
                orders: 200,
                seed: 1,
            },
            generated_until: default_generated_until(),
            key_seed: 1,
            list_databases: true,
            data_dir: None,
        }
    }

    /// The same configuration with other databases (the first one holds the data).
    pub fn with_databases<I, S>(mut self, databases: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.databases = databases.into_iter().map(Into::into).collect();
        self
    }

    /// The same configuration with another data set.
    pub fn with_dataset(mut self, dataset: Dataset) -> Self {
        self.dataset = dataset;
        self
    }

    /// The same configuration with the database list served or refused.
    pub fn with_database_list(mut self, listed: bool) -> Self {
        self.list_databases = listed;
        self
    }

    /// The same configuration keeping its data in a directory: written there on the first
    /// start, read back (with the changes committed since) on the next ones.
    pub fn with_data_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.data_dir = Some(dir.into());
        self
    }

    /// The same configuration with generated write dates ending at `until`.
    pub fn with_generated_until(mut self, until: NaiveDateTime) -> Self {
        self.generated_until = until;
        self
    }
}

fn default_generated_until() -> NaiveDateTime {
    chrono::NaiveDate::from_ymd_opt(2025, 1, 1)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .unwrap_or_default()
}

/// The kinds of users every sandbox has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UserKind {
    /// An integration user with "Sales / User: All Documents".
    SalesAll,
    /// A user with "Sales / User: Own Documents Only".
    OwnDocumentsOnly,
    /// An internal user without any Sales group.
    NoSalesAccess,
    /// The administrator.
    Admin,
}

impl UserKind {
    /// Every kind, in uid order of the sandbox.
    pub const ALL: [UserKind; 4] = [
        UserKind::Admin,
        UserKind::SalesAll,
        UserKind::NoSalesAccess,
        UserKind::OwnDocumentsOnly,
    ];
}

/// The credentials of a sandbox user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SandboxUser {
    /// The kind of user.
    pub kind: UserKind,
    /// The user id in the first database.
    pub uid: i64,
    /// The login (an e-mail address, except `admin`).
    pub login: String,
    /// The display name.
    pub name: String,
    /// The password (accepted over XML-RPC and JSON-RPC).
    pub password: String,
    /// A valid API key (40 hex characters).
    pub api_key: String,
    /// An API key that has expired (refused everywhere); only on 19 and later.
    pub expired_api_key: Option<String>,
}

/// The users of a sandbox of a given version: the uids are those of the recorded servers
/// (API user 8 on 18, 7 on 19).
pub fn users_for(version: u8, key_seed: u64) -> Vec<SandboxUser> {
    UserKind::ALL
        .iter()
        .map(|kind| user_for(version, key_seed, *kind))
        .collect()
}

/// The user of one kind in a sandbox of a given version and key seed.
pub fn user_for(version: u8, key_seed: u64, kind: UserKind) -> SandboxUser {
    let base = if version >= 19 { 7 } else { 8 };
    let (uid, login, name, password) = match kind {
        UserKind::Admin => (2, "admin", "Mitchell Admin", "admin"),
        UserKind::SalesAll => (base, "api@example.com", "API User", "api-password"),
        UserKind::NoSalesAccess => (
            base + 1,
            "noaccess@example.com",
            "No Access",
            "noaccess-password",
        ),
        UserKind::OwnDocumentsOnly => {
            (base + 2, "own@example.com", "Own Documents", "own-password")
        }
    };
    SandboxUser {
        kind,
        uid,
        login: login.to_owned(),
        name: name.to_owned(),
        password: password.to_owned(),
        api_key: hex_key(key_seed, uid as u64 * 2),
        expired_api_key: (version >= 19).then(|| hex_key(key_seed, uid as u64 * 2 + 1)),
    }
}

fn hex_key(seed: u64, salt: u64) -> String {
    let mut rng = crate::data::Rng::new(seed.wrapping_mul(0x9E37_79B9).wrapping_add(salt));
    (0..20)
        .map(|_| format!("{:02x}", rng.next_u64() as u8))
        .collect()
}

/// The behaviour differences between the supported versions, kept in one place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Profile {
    /// The major version.
    pub version: u8,
}

impl Profile {
    /// Whether `has_access` exists (18 and later).
    pub fn has_access(self) -> bool {
        self.version >= 18
    }

    /// Whether `check_access` exists (18 and later; private on 19).
    pub fn has_check_access(self) -> bool {
        self.version >= 18
    }

    /// Whether JSON-2 and `GET /web/version` exist (19 and later).
    pub fn json2(self) -> bool {
        self.version >= 19
    }

    /// Whether `sale.order` has the `locked` field (17 and later); before, locked orders are
    /// in state `done`.
    pub fn locked_field(self) -> bool {
        self.version >= 17
    }

    /// Whether datetimes in domains are compared to the whole second (19 and later).
    pub fn whole_second_datetimes(self) -> bool {
        self.version >= 19
    }

    /// Whether a non-stored field in a domain is an error (19) rather than ignored (18).
    pub fn non_stored_search_fails(self) -> bool {
        self.version >= 19
    }

    /// The unit field of `sale.order.line`.
    pub fn line_uom_field(self) -> &'static str {
        if self.version >= 19 {
            "product_uom_id"
        } else {
            "product_uom"
        }
    }

    /// The groups field of `res.users`.
    pub fn user_groups_field(self) -> &'static str {
        if self.version >= 19 {
            "group_ids"
        } else {
            "groups_id"
        }
    }

    /// `error.code` of JSON-RPC errors (200 up to 18, 0 on 19).
    pub fn jsonrpc_error_code(self) -> i64 {
        if self.version >= 19 {
            0
        } else {
            200
        }
    }

    /// The `common.version` answer.
    pub fn version_info(self) -> serde_json::Value {
        let serie = format!("{}.0", self.version);
        serde_json::json!({
            "server_version": serie,
            "server_version_info": [self.version, 0, 0, "final", 0, ""],
            "server_serie": serie,
            "protocol_version": 1,
        })
    }
}
