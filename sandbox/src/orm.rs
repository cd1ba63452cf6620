//! The model methods a read-only client calls, shared by every protocol: `search_read`, `read`,
//! `search`, `search_count`, `fields_get`, `check_access_rights`, `has_access`, `check_access`,
//! `res.users.has_group` and `res.users.context_get`. Every other public method is refused:
//! writes (`create`, `write`, `unlink`, `action_*`...) with an access error, unknown names as
//! Odoo does.

use std::borrow::Cow;

use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};
use serde_json::{json, Map, Value};

use crate::config::{Profile, SandboxUser, UserKind};
use crate::data::{groups_of, GROUPS};
use crate::domain::{candidate_scan, index_scan, is_bounded, parse_order, sort, Context, Domain};
use crate::error::OdooError;
use crate::schema::{Model, Schema};
use crate::store::{Database, Record, Scan};

/// Which front end a call came through; messages and checks differ slightly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// XML-RPC or JSON-RPC `execute_kw`.
    Legacy,
    /// JSON-2 (`/json/2/<model>/<method>`).
    Json2,
}

/// The arguments of a call.
#[derive(Debug, Clone, PartialEq)]
pub enum Arguments {
    /// `execute_kw` positional arguments and keyword arguments.
    Positional {
        /// Positional arguments (record methods take the ids first).
        args: Vec<Value>,
        /// Keyword arguments.
        kwargs: Map<String, Value>,
    },
    /// A JSON-2 body of named arguments (`ids`, `context` and the method's parameters).
    Named(Map<String, Value>),
}

/// Everything a call runs against.
#[derive(Debug, Clone, Copy)]
pub struct Env<'a> {
    /// The database.
    pub db: &'a Database,
    /// The calling user.
    pub user: &'a SandboxUser,
    /// The models of this version.
    pub schema: &'a Schema,
    /// The version.
    pub profile: Profile,
    /// The front end.
    pub protocol: Protocol,
}

struct Signature {
    record: bool,
    params: &'static [(&'static str, bool)],
    read_kwargs: bool,
}

fn signature(method: &str) -> Option<Signature> {
    let (record, params, read_kwargs): (bool, &'static [(&'static str, bool)], bool) = match method
    {
        "search_read" => (
            false,
            &[
                ("domain", false),
                ("fields", false),
                ("offset", false),
                ("limit", false),
                ("order", false),
            ],
            true,
        ),
        "read" => (true, &[("fields", false), ("load", false)], false),
        "search" => (
            false,
            &[
                ("domain", true),
                ("offset", false),
                ("limit", false),
                ("order", false),
            ],
            false,
        ),
        "search_count" => (false, &[("domain", true), ("limit", false)], false),
        "fields_get" => (false, &[("allfields", false), ("attributes", false)], false),
        "check_access_rights" => (
            false,
            &[("operation", true), ("raise_exception", false)],
            false,
        ),
        "has_access" | "check_access" => (true, &[("operation", true)], false),
        "has_group" => (true, &[("group_ext_id", true)], false),
        "context_get" => (false, &[], false),
        _ => return None,
    };
    Some(Signature {
        record,
        params,
        read_kwargs,
    })
}

/// Whether a method name is one that writes (always refused).
pub fn is_write_method(method: &str) -> bool {
    const PREFIXES: [&str; 5] = ["action_", "button_", "message_", "activity_", "write_"];
    const NAMES: [&str; 10] = [
        "create",
        "write",
        "unlink",
        "copy",
        "toggle_active",
        "name_create",
        "web_save",
        "onchange",
        "load",
        "copy_data",
    ];
    NAMES.contains(&method) || PREFIXES.iter().any(|p| method.starts_with(p))
}

/// Runs one model method.
pub fn call(env: Env, model: &str, method: &str, arguments: Arguments) -> Result<Value, OdooError> {
    answer(env, model, method, arguments).map(Answer::into_value)
}

/// Runs one model method; rows are rendered only when the answer is serialised or turned
/// into a value.
pub fn answer<'a>(
    env: Env<'a>,
    model: &str,
    method: &str,
    arguments: Arguments,
) -> Result<Answer<'a>, OdooError> {
    let model = find_model(env, model)?;
    check_method(env, model, method)?;
    let sig = signature(method).ok_or_else(|| unknown_method(env, model, method))?;
    let bound = bind(env, model, method, &sig, arguments)?;

    dispatch(env, model, method, &bound)
}

/// What a model method answers.
#[derive(Debug)]
pub enum Answer<'a> {
    /// A value.
    Value(Value),
    /// Rows as `read` prints them (`search_read`, `read`), serialised straight from the
    /// records, without a value per row.
    Rows(Rows<'a>),
}

impl Answer<'_> {
    /// The answer as a value.
    pub fn into_value(self) -> Value {
        match self {
            Answer::Value(value) => value,
            Answer::Rows(rows) => Value::Array(
                rows.records
                    .iter()
                    .map(|r| render(rows.env, rows.model, r, &rows.fields))
                    .collect(),
            ),
        }
    }
}

impl Serialize for Answer<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Answer::Value(value) => value.serialize(serializer),
            Answer::Rows(rows) => rows.serialize(serializer),
        }
    }
}

/// Records with the fields to print, in the key order a rendered row has.
#[derive(Debug)]
pub struct Rows<'a> {
    env: Env<'a>,
    model: &'a Model,
    records: Vec<&'a Record>,
    fields: Vec<String>,
    keys: Vec<String>,
}

impl<'a> Rows<'a> {
    fn new(env: Env<'a>, model: &'a Model, records: Vec<&'a Record>, fields: Vec<String>) -> Self {
        let mut order = Map::new();
        order.insert("id".to_owned(), Value::Null);
        for field in &fields {
            order.insert(field.clone(), Value::Null);
        }
        let keys = order.keys().cloned().collect();
        Rows {
            env,
            model,
            records,
            fields,
            keys,
        }
    }
}

impl Serialize for Rows<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(self.records.len()))?;
        for record in &self.records {
            seq.serialize_element(&Row { rows: self, record })?;
        }
        seq.end()
    }
}

struct Row<'r, 'a> {
    rows: &'r Rows<'a>,
    record: &'a Record,
}

impl Serialize for Row<'_, '_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let Rows { env, model, .. } = *self.rows;
        let mut map = serializer.serialize_map(Some(self.rows.keys.len()))?;
        for key in &self.rows.keys {
            match key.as_str() {
                "id" => map.serialize_entry(key, &self.record.id)?,
                field => map.serialize_entry(key, &field_ref(env, model, self.record, field))?,
            }
        }
        map.end()
    }
}

fn find_model<'a>(env: Env<'a>, name: &str) -> Result<&'a Model, OdooError> {
    match (env.schema.model(name), env.db.table(name)) {
        (Some(model), Some(_)) => Ok(model),
        _ if env.protocol == Protocol::Json2 => Err(OdooError::NotFound(format!(
            "the model '{name}' does not exist"
        ))),
        _ => Err(OdooError::UserError(format!("Object {name} doesn't exist"))),
    }
}

fn check_method(env: Env, model: &Model, method: &str) -> Result<(), OdooError> {
    let private =
        method.starts_with('_') || (env.profile.version >= 19 && method == "check_access");
    if private {
        let shown = if env.profile.version >= 19 {
            format!("'{}.{method}'", model.name)
        } else {
            method.to_owned()
        };
        return Err(OdooError::AccessError(format!(
            "Private methods (such as {shown}) cannot be called remotely."
        )));
    }
    if is_write_method(method) {
        return Err(OdooError::AccessError(format!(
            "You are not allowed to modify '{}' ({}) records.\n\nThis server is read-only over RPC.",
            model.description, model.name
        )));
    }
    let missing = (method == "has_access" && !env.profile.has_access())
        || (method == "check_access" && !env.profile.has_check_access())
        || (matches!(method, "has_group" | "context_get") && model.name != "res.users");
    if missing {
        return Err(unknown_method(env, model, method));
    }
    Ok(())
}

fn unknown_method(env: Env, model: &Model, method: &str) -> OdooError {
    match env.protocol {
        Protocol::Json2 => OdooError::NotFound(format!(
            "The method '{}.{method}' does not exist",
            model.name
        )),
        Protocol::Legacy => OdooError::AttributeError(format!(
            "The method '{method}' does not exist on the model '{}'",
            model.name
        )),
    }
}

/// Arguments bound to a method's parameters.
#[derive(Debug, Default)]
struct Bound {
    ids: Vec<i64>,
    values: Map<String, Value>,
    context: Map<String, Value>,
}

impl Bound {
    fn get(&self, name: &str) -> Option<&Value> {
        self.values.get(name).filter(|v| !v.is_null())
    }

    fn strings(&self, name: &str) -> Vec<String> {
        let list = self.get(name).and_then(Value::as_array);
        list.map(|l| {
            l.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
    }

    fn usize(&self, name: &str) -> Option<usize> {
        self.get(name).and_then(Value::as_u64).map(|n| n as usize)
    }
}

fn bind(
    env: Env,
    model: &Model,
    method: &str,
    sig: &Signature,
    arguments: Arguments,
) -> Result<Bound, OdooError> {
    match arguments {
        Arguments::Positional { args, kwargs } => bind_positional(method, sig, args, kwargs),
        Arguments::Named(body) => bind_named(env, model, method, sig, body),
    }
}

fn bind_positional(
    method: &str,
    sig: &Signature,
    mut args: Vec<Value>,
    kwargs: Map<String, Value>,
) -> Result<Bound, OdooError> {
    let mut bound = Bound::default();
    if sig.record {
        if args.is_empty() {
            return Err(OdooError::TypeError(format!(
                "{method}() missing 1 required positional argument: 'self'"
            )));
        }
        bound.ids = ids_of(&args.remove(0));
    }
    if args.len() > sig.params.len() {
        let message = format!(
            "{method}() takes {} positional arguments but {} were given",
            sig.params.len() + 1,
            args.len() + 1
        );
        return Err(OdooError::TypeError(message));
    }
    for ((name, _), value) in sig.params.iter().zip(args) {
        bound.values.insert((*name).to_owned(), value);
    }
    for (name, value) in kwargs {
        bind_keyword(method, sig, &mut bound, name, value, Protocol::Legacy)?;
    }
    require(method, sig, &bound, Protocol::Legacy)?;
    Ok(bound)
}

fn bind_named(
    env: Env,
    model: &Model,
    method: &str,
    sig: &Signature,
    mut body: Map<String, Value>,
) -> Result<Bound, OdooError> {
    let ids = body.remove("ids");
    let mut bound = Bound::default();
    match ids {
        Some(ids) if !sig.record && ids.as_array().is_some_and(|a| !a.is_empty()) => {
            return Err(OdooError::Unprocessable(format!(
                "cannot call {}.{method} with ids",
                model.name
            )));
        }
        Some(ids) => bound.ids = ids_of(&ids),
        None => {}
    }
    for (name, value) in body {
        bind_keyword(method, sig, &mut bound, name, value, env.protocol)?;
    }
    require(method, sig, &bound, env.protocol)?;
    Ok(bound)
}

fn bind_keyword(
    method: &str,
    sig: &Signature,
    bound: &mut Bound,
    name: String,
    value: Value,
    protocol: Protocol,
) -> Result<(), OdooError> {
    if name == "context" {
        bound.context = value.as_object().cloned().unwrap_or_default();
        return Ok(());
    }
    if sig.params.iter().any(|(p, _)| *p == name) {
        if bound.values.contains_key(&name) {
            return Err(OdooError::TypeError(format!(
                "{method}() got multiple values for argument '{name}'"
            )));
        }
        bound.values.insert(name, value);
        return Ok(());
    }
    if sig.read_kwargs && name == "load" {
        return Ok(());
    }
    if sig.read_kwargs {
        return Err(OdooError::TypeError(format!(
            "BaseModel._read_format() got an unexpected keyword argument '{name}'"
        )));
    }
    match protocol {
        Protocol::Json2 => Err(OdooError::Unprocessable(format!(
            "got an unexpected keyword argument '{name}'"
        ))),
        Protocol::Legacy => Err(OdooError::TypeError(format!(
            "{method}() got an unexpected keyword argument '{name}'"
        ))),
    }
}

fn require(
    method: &str,
    sig: &Signature,
    bound: &Bound,
    protocol: Protocol,
) -> Result<(), OdooError> {
    let Some((missing, _)) = sig
        .params
        .iter()
        .find(|(name, required)| *required && !bound.values.contains_key(*name))
    else {
        return Ok(());
    };
    match protocol {
        Protocol::Json2 => Err(OdooError::Unprocessable(format!(
            "missing a required argument: '{missing}'"
        ))),
        Protocol::Legacy => Err(OdooError::TypeError(format!(
            "{method}() missing 1 required positional argument: '{missing}'"
        ))),
    }
}

fn ids_of(value: &Value) -> Vec<i64> {
    match value {
        Value::Array(items) => items.iter().filter_map(Value::as_i64).collect(),
        other => other.as_i64().into_iter().collect(),
    }
}

fn dispatch<'a>(
    env: Env<'a>,
    model: &'a Model,
    method: &str,
    bound: &Bound,
) -> Result<Answer<'a>, OdooError> {
    let value = match method {
        "search_read" => return search_read(env, model, bound),
        "read" => return read(env, model, bound),
        "search" => search(env, model, bound),
        "search_count" => search_count(env, model, bound),
        "fields_get" => Ok(fields_get(model, bound)),
        "check_access_rights" => check_access_rights(env, model, bound),
        "has_access" => Ok(Value::Bool(has_access(env, model, bound))),
        "check_access" => check_access(env, model, bound),
        "context_get" => Ok(json!({"lang": "en_US", "tz": "Europe/Brussels", "uid": env.user.uid})),
        _ => has_group(env, bound),
    };
    value.map(Answer::Value)
}

/// Whether the user may read the model at all (ACLs).
pub fn can_read(user: &SandboxUser, model: &Model) -> bool {
    !model.sales_protected || user.kind != UserKind::NoSalesAccess
}

fn require_read(env: Env, model: &Model) -> Result<(), OdooError> {
    if can_read(env.user, model) {
        return Ok(());
    }
    Err(OdooError::AccessError(access_message(env.profile, model)))
}

fn access_message(profile: Profile, model: &Model) -> String {
    let groups = if profile.version >= 19 {
        "\t- Accounting/Invoicing\n\t- Sales/Administrator\n\t- Sales/User: Own Documents Only\n\t- Role / Portal\n\t- Show Accounting Features - Readonly\n\t- Show Full Accounting Features"
    } else {
        "\t- Invoicing/Invoicing\n\t- Sales/Administrator\n\t- Sales/User: Own Documents Only\n\t- Technical/Show Accounting Features - Readonly\n\t- Technical/Show Full Accounting Features\n\t- User types/Portal"
    };
    format!(
        "You are not allowed to access '{}' ({}) records.\n\nThis operation is allowed for the following groups:\n{groups}\n\nContact your administrator to request access if necessary.",
        model.description, model.name
    )
}

/// Whether a record passes the user's record rules ("own documents only" sees its own orders
/// and unassigned ones, and their lines).
fn visible(env: Env, model: &Model, record: &Record) -> bool {
    if env.user.kind != UserKind::OwnDocumentsOnly || !model.sales_protected {
        return true;
    }
    let order = match model.name.as_str() {
        "sale.order.line" => record
            .many2one_id("order_id")
            .and_then(|id| env.db.table("sale.order")?.get(id)),
        _ => Some(record),
    };
    order.is_some_and(|o| {
        o.many2one_id("user_id")
            .is_none_or(|uid| uid == env.user.uid)
    })
}

fn find<'a>(env: Env<'a>, model: &'a Model, bound: &Bound) -> Result<Vec<&'a Record>, OdooError> {
    let ctx = Context {
        model,
        profile: env.profile,
    };
    let domain = Domain::parse(bound.get("domain").unwrap_or(&Value::Null), ctx)?;
    let order = bound
        .get("order")
        .and_then(Value::as_str)
        .unwrap_or(&model.default_order);
    let terms = parse_order(order, model, env.profile)?;
    let offset = bound.usize("offset").unwrap_or(0);
    let limit = bound
        .usize("limit")
        .filter(|l| *l > 0)
        .unwrap_or(usize::MAX);
    let Some(table) = env.db.table(&model.name) else {
        return Ok(Vec::new());
    };
    let active_only = active_only(model, &domain, bound);
    let wanted = |r: &&Record| {
        visible(env, model, r) && domain.matches(r, ctx) && (!active_only || is_active(r))
    };

    // A closed `write_date` range narrows a search more than walking the id index in order
    // would: walk the range and sort what it finds instead.
    let candidates = candidate_scan(&domain);
    let walk = index_scan(&domain, &terms)
        .filter(|scan| !is_bounded(&candidates) || matches!(scan, Scan::WriteDate { .. }));
    let found = match walk {
        Some(scan) => table
            .scan(&scan)
            .filter(wanted)
            .skip(offset)
            .take(limit)
            .collect(),
        None => {
            let rows = table.scan(&candidates);
            let mut found: Vec<&Record> = rows.filter(wanted).collect();
            sort(&mut found, &terms, ctx);
            found.into_iter().skip(offset).take(limit).collect()
        }
    };
    Ok(found)
}

/// Whether archived records are left out, as Odoo does when a model has an `active` field,
/// the domain does not mention it and the context does not set `active_test` to false.
fn active_only(model: &Model, domain: &Domain, bound: &Bound) -> bool {
    let tested = bound.context.get("active_test") != Some(&Value::Bool(false));
    model.fields.contains_key("active") && tested && !domain.mentions("active")
}

fn is_active(record: &Record) -> bool {
    record.values.get("active") != Some(&Value::Bool(false))
}

fn search_read<'a>(env: Env<'a>, model: &'a Model, bound: &Bound) -> Result<Answer<'a>, OdooError> {
    require_read(env, model)?;
    let fields = check_fields(env, model, bound.strings("fields"))?;

    let records = find(env, model, bound)?;
    Ok(Answer::Rows(Rows::new(env, model, records, fields)))
}

fn read<'a>(env: Env<'a>, model: &'a Model, bound: &Bound) -> Result<Answer<'a>, OdooError> {
    require_read(env, model)?;
    let fields = check_fields(env, model, bound.strings("fields"))?;
    let table = env.db.table(&model.name);

    let mut records = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for id in &bound.ids {
        let Some(record) = table.and_then(|t| t.get(*id)) else {
            continue;
        };
        if !visible(env, model, record) {
            return Err(OdooError::AccessError(rule_message(env, model, record)));
        }
        if seen.insert(*id) {
            records.push(record);
        }
    }
    Ok(Answer::Rows(Rows::new(env, model, records, fields)))
}

fn rule_message(env: Env, model: &Model, record: &Record) -> String {
    format!(
        "Uh-oh! Looks like you have stumbled upon some top-secret records.\n\nSorry, {} (id={}) doesn't have 'read' access to:\n- {}, {} ({}: {})",
        env.user.name,
        env.user.uid,
        model.description,
        record.values.get("name").and_then(Value::as_str).unwrap_or_default(),
        model.name,
        record.id
    )
}

fn check_fields(env: Env, model: &Model, fields: Vec<String>) -> Result<Vec<String>, OdooError> {
    if fields.is_empty() {
        return Ok(model
            .fields
            .keys()
            .filter(|f| f.as_str() != "id")
            .cloned()
            .collect());
    }
    let on = if env.profile.version >= 19 {
        ""
    } else {
        "model "
    };
    match fields
        .iter()
        .find(|f| !model.fields.contains_key(f.as_str()))
    {
        Some(bad) => Err(OdooError::ValueError(format!(
            "Invalid field '{bad}' on {on}'{}'",
            model.name
        ))),
        None => Ok(fields.into_iter().filter(|f| f != "id").collect()),
    }
}

fn render(env: Env, model: &Model, record: &Record, fields: &[String]) -> Value {
    let mut out = Map::new();
    out.insert("id".into(), json!(record.id));
    for field in fields {
        out.insert(field.clone(), field_value(env, model, record, field));
    }
    Value::Object(out)
}

/// A field's value as [`field_value`] gives it, borrowed when stored as printed.
fn field_ref<'a>(env: Env, model: &Model, record: &'a Record, field: &str) -> Cow<'a, Value> {
    match (field, record.values.get(field)) {
        ("id" | "write_date" | "create_date", _) | (_, None) => {
            Cow::Owned(field_value(env, model, record, field))
        }
        (_, Some(value)) => Cow::Borrowed(value),
    }
}

/// A field's value, computing the non-stored line fields a sync may read.
fn field_value(env: Env, model: &Model, record: &Record, field: &str) -> Value {
    let stored = record.values.get(field);
    match (model.name.as_str(), field, stored) {
        (_, "id" | "write_date" | "create_date", _) => record.read_value(model, field),
        (_, _, Some(value)) => value.clone(),
        ("sale.order.line", "parent_id", None) => line_parent(env, record),
        ("sale.order.line", "price_total", None) => record
            .values
            .get("price_subtotal")
            .cloned()
            .unwrap_or(json!(0.0)),
        _ => record.read_value(model, field),
    }
}

/// The section or subsection a line belongs to (19): the last subsection after the last
/// section before it, else that section; a subsection belongs to its section.
fn line_parent(env: Env, line: &Record) -> Value {
    let lines = env.db.table("sale.order.line");
    let order = line
        .many2one_id("order_id")
        .and_then(|id| env.db.table("sale.order")?.get(id));
    let Some(order) = order else {
        return json!(false);
    };
    let ids = order
        .values
        .get("order_line")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let (mut section, mut subsection): (Option<&Record>, Option<&Record>) = (None, None);
    for other in ids.iter().filter_map(|id| lines?.get(id.as_i64()?)) {
        if other.id == line.id {
            break;
        }
        match other.values.get("display_type").and_then(Value::as_str) {
            Some("line_section") => (section, subsection) = (Some(other), None),
            Some("line_subsection") => subsection = Some(other),
            _ => {}
        }
    }
    let parent = match line.values.get("display_type").and_then(Value::as_str) {
        Some("line_section") => None,
        Some("line_subsection") => section,
        _ => subsection.or(section),
    };
    parent.map_or(json!(false), |p| json!([p.id, line_display_name(order, p)]))
}

fn line_display_name(order: &Record, line: &Record) -> String {
    let text = |r: &Record, f: &str| {
        r.values
            .get(f)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    let partner = order
        .values
        .get("partner_id")
        .and_then(|p| p.get(1)?.as_str())
        .unwrap_or_default()
        .to_owned();
    format!(
        "{} - {} ({partner})",
        text(order, "name"),
        text(line, "name")
    )
}

fn search(env: Env, model: &Model, bound: &Bound) -> Result<Value, OdooError> {
    require_read(env, model)?;

    let records = find(env, model, bound)?;
    Ok(json!(records.iter().map(|r| r.id).collect::<Vec<_>>()))
}

fn search_count(env: Env, model: &Model, bound: &Bound) -> Result<Value, OdooError> {
    require_read(env, model)?;
    let mut unlimited = Bound {
        ids: Vec::new(),
        values: bound.values.clone(),
        context: bound.context.clone(),
    };
    unlimited.values.remove("limit");

    let count = find(env, model, &unlimited)?.len();
    Ok(json!(bound
        .usize("limit")
        .map_or(count, |limit| count.min(limit))))
}

fn fields_get(model: &Model, bound: &Bound) -> Value {
    let wanted = bound.strings("allfields");
    let attributes = bound.strings("attributes");
    let mut out = Map::new();
    for (name, field) in &model.fields {
        if wanted.is_empty() || wanted.contains(name) {
            out.insert(name.clone(), field.describe(&attributes));
        }
    }
    Value::Object(out)
}

fn operation_allowed(env: Env, model: &Model, operation: &str) -> bool {
    match operation {
        "read" => can_read(env.user, model),
        _ => {
            env.user.kind == UserKind::Admin || (model.sales_protected && can_read(env.user, model))
        }
    }
}

fn check_access_rights(env: Env, model: &Model, bound: &Bound) -> Result<Value, OdooError> {
    let operation = bound
        .get("operation")
        .and_then(Value::as_str)
        .unwrap_or("read");
    let raise = bound.get("raise_exception").is_none_or(truthy);
    let allowed = operation_allowed(env, model, operation);
    match (allowed, raise) {
        (_, false) => Ok(Value::Bool(allowed)),
        (false, true) => Err(OdooError::AccessError(access_message(env.profile, model))),
        (true, true) if env.profile.version >= 18 => Ok(Value::Null),
        (true, true) => Ok(Value::Bool(true)),
    }
}

fn truthy(value: &Value) -> bool {
    match value {
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64() != Some(0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
        Value::Null => false,
    }
}

fn has_access(env: Env, model: &Model, bound: &Bound) -> bool {
    let operation = bound
        .get("operation")
        .and_then(Value::as_str)
        .unwrap_or("read");
    let table = env.db.table(&model.name);
    let records_visible = bound
        .ids
        .iter()
        .filter_map(|id| table.and_then(|t| t.get(*id)))
        .all(|r| visible(env, model, r));
    operation_allowed(env, model, operation) && records_visible
}

fn check_access(env: Env, model: &Model, bound: &Bound) -> Result<Value, OdooError> {
    if has_access(env, model, bound) {
        return Ok(Value::Null);
    }
    Err(OdooError::AccessError(access_message(env.profile, model)))
}

fn has_group(env: Env, bound: &Bound) -> Result<Value, OdooError> {
    let wanted = bound
        .get("group_ext_id")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let uid = bound.ids.first().copied().unwrap_or(env.user.uid);
    let Some(user) = env.db.user(uid) else {
        return Ok(Value::Bool(false));
    };
    let groups = groups_of(user.kind);
    let found = GROUPS
        .iter()
        .any(|(id, xml_id, _, _)| *xml_id == wanted && groups.contains(id));
    Ok(Value::Bool(found))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{users_for, Dataset, SandboxConfig};
    use crate::data::build_databases;

    struct Fixture {
        db: Database,
        users: Vec<SandboxUser>,
        schema: Schema,
        profile: Profile,
    }

    fn fixture(version: u8) -> Fixture {
        let config = SandboxConfig::new(version).with_dataset(Dataset::Generated {
            orders: 120,
            seed: 3,
        });
        let users = users_for(version, 1);
        let db = build_databases(&config, &users).unwrap().remove(0);
        let profile = Profile { version };
        let schema = Schema::for_profile(profile);
        Fixture {
            db,
            users,
            schema,
            profile,
        }
    }

    impl Fixture {
        fn env(&self, kind: UserKind) -> Env<'_> {
            Env {
                db: &self.db,
                user: self.users.iter().find(|u| u.kind == kind).unwrap(),
                schema: &self.schema,
                profile: self.profile,
                protocol: Protocol::Legacy,
            }
        }

        /// Every matching order, sorted as a whole, then cut: what `search` must answer.
        fn expected(
            &self,
            kind: UserKind,
            domain: &Value,
            order: &str,
            cut: (usize, usize),
        ) -> Vec<i64> {
            let env = self.env(kind);
            let model = self.schema.model("sale.order").unwrap();
            let ctx = Context {
                model,
                profile: self.profile,
            };
            let domain = Domain::parse(domain, ctx).unwrap();
            let terms = parse_order(order, model, self.profile).unwrap();
            let table = self.db.table("sale.order").unwrap();
            let mut found: Vec<&Record> = table
                .rows()
                .filter(|r| visible(env, model, r) && domain.matches(r, ctx))
                .collect();
            sort(&mut found, &terms, ctx);
            found.iter().skip(cut.0).take(cut.1).map(|r| r.id).collect()
        }

        fn search(
            &self,
            kind: UserKind,
            domain: &Value,
            order: &str,
            cut: (usize, usize),
        ) -> Vec<i64> {
            let kwargs = json!({"order": order, "offset": cut.0, "limit": cut.1});
            let arguments = Arguments::Positional {
                args: vec![domain.clone()],
                kwargs: kwargs.as_object().cloned().unwrap(),
            };
            let answer = call(self.env(kind), "sale.order", "search", arguments).unwrap();
            serde_json::from_value(answer).unwrap()
        }
    }

    fn domains(fixture: &Fixture) -> Vec<Value> {
        let order = fixture.db.table("sale.order").unwrap().get(60).unwrap();
        let second = crate::store::format_datetime(order.write_date);
        let precise = order.write_date.format("%Y-%m-%d %H:%M:%S%.6f").to_string();
        let mut domains = vec![json!([]), json!([["state", "=", "sale"]])];
        for operator in ["=", ">", ">=", "<", "<="] {
            domains.push(json!([["write_date", operator, second]]));
            domains.push(json!([["write_date", operator, precise]]));
            domains.push(json!([["id", operator, 60]]));
        }
        domains.push(json!(["&", ["write_date", ">=", second], ["id", "<", 90]]));
        domains.push(json!(["|", ["write_date", ">", second], ["id", "<", 5]]));
        domains.push(json!(["!", ["write_date", "<", second]]));
        domains.push(json!([["write_date", ">=", "2024"]]));
        domains.push(json!([["id", "in", [61, 7, 90, 12]]]));
        domains.push(json!([["id", "in", []]]));
        domains.push(json!([["id", "in", [60, false]]]));
        domains.push(json!([
            "&",
            ["state", "=", "sale"],
            ["id", "in", [3, 60, 200]]
        ]));
        domains.push(json!(["|", ["id", "in", [3]], ["id", "=", 60]]));
        domains
    }

    #[test]
    fn searches_walking_an_index_answer_as_a_full_sort_does() {
        let orders = [
            "",
            "id asc",
            "id desc",
            "write_date asc",
            "write_date asc, id asc",
            "write_date desc, id desc",
            "write_date desc",
            "name desc",
        ];
        for version in [18, 19] {
            let fixture = fixture(version);
            for domain in domains(&fixture) {
                for order in orders {
                    for cut in [(0, usize::MAX), (3, 7), (0, 40)] {
                        for kind in [UserKind::SalesAll, UserKind::OwnDocumentsOnly] {
                            assert_eq!(
                                fixture.search(kind, &domain, order, cut),
                                fixture.expected(kind, &domain, order, cut),
                                "{version} {domain} {order:?} {cut:?} {kind:?}"
                            );
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn rows_serialised_straight_print_as_their_rendered_values() {
        for version in [18, 19] {
            let fixture = fixture(version);
            let env = fixture.env(UserKind::SalesAll);
            let mut line_fields = vec!["price_total", "display_name", "write_date", "order_id"];
            if version >= 19 {
                line_fields.push("parent_id");
            }
            let calls = [
                (
                    "sale.order",
                    "search_read",
                    json!([[["id", "<", 30]]]),
                    json!({}),
                ),
                (
                    "sale.order.line",
                    "read",
                    json!([[3, 1, 2, 3, 40, 41, 42]]),
                    json!({"fields": line_fields}),
                ),
            ];
            for (model, method, args, kwargs) in calls {
                let arguments = || Arguments::Positional {
                    args: serde_json::from_value(args.clone()).unwrap(),
                    kwargs: kwargs.as_object().cloned().unwrap(),
                };

                let straight =
                    serde_json::to_string(&answer(env, model, method, arguments()).unwrap());
                let rendered = answer(env, model, method, arguments())
                    .unwrap()
                    .into_value()
                    .to_string();

                assert_eq!(straight.unwrap(), rendered, "{version} {model}.{method}");
            }
        }
    }
}
