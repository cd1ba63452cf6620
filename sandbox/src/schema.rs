//! The models and fields the sandbox knows, per version.
//!
//! `sale.order` and `sale.order.line` come from the `fields_get` answers of the recorded 18.0
//! and 19.0 servers (`schema/sale-18.json`, `schema/sale-19.json`); versions before 18 reuse the
//! 18.0 fields, and before 17 have the state `done` instead of the `locked` field. The other
//! models carry only the fields a sync reads.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use crate::config::Profile;

const SALE_18: &str = include_str!("schema/sale-18.json");
const SALE_19: &str = include_str!("schema/sale-19.json");

/// One field of a model.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    /// The field's attributes as `fields_get` returns them (`type`, `string`, `store`...).
    pub attributes: Map<String, Value>,
}

impl Field {
    /// The field type (`char`, `many2one`, `datetime`...).
    pub fn kind(&self) -> &str {
        self.attributes
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or("char")
    }

    /// Whether the field is stored (and so searchable and sortable).
    pub fn stored(&self) -> bool {
        self.attributes
            .get("store")
            .and_then(Value::as_bool)
            .unwrap_or(false)
    }

    /// The value `read` gives when the record holds none.
    pub fn empty_value(&self) -> Value {
        match self.kind() {
            "one2many" | "many2many" => json!([]),
            "integer" => json!(0),
            "float" | "monetary" => json!(0.0),
            _ => Value::Bool(false),
        }
    }

    /// The attributes `fields_get` returns for the asked attribute names (all when empty).
    pub fn describe(&self, attributes: &[String]) -> Value {
        let mut out = Map::new();
        let wanted = |name: &str| attributes.is_empty() || attributes.iter().any(|a| a == name);
        for (name, value) in &self.attributes {
            if wanted(name) {
                out.insert(name.clone(), value.clone());
            }
        }
        self.add_derived(&mut out, &wanted);
        Value::Object(out)
    }

    fn add_derived(&self, out: &mut Map<String, Value>, wanted: &dyn Fn(&str) -> bool) {
        for derived in ["searchable", "sortable"] {
            if wanted(derived) && !out.contains_key(derived) {
                out.insert(derived.into(), Value::Bool(self.stored()));
            }
        }
        if wanted("selection") && self.kind() == "selection" && !out.contains_key("selection") {
            out.insert("selection".into(), json!([]));
        }
    }
}

/// One model: its label, fields and default order.
#[derive(Debug, Clone, PartialEq)]
pub struct Model {
    /// The technical name (`sale.order`).
    pub name: String,
    /// The label used in access error messages (`Sales Order`).
    pub description: String,
    /// The fields by name.
    pub fields: BTreeMap<String, Field>,
    /// The `_order` used when a search gives none.
    pub default_order: String,
    /// Whether reading needs a Sales group.
    pub sales_protected: bool,
}

/// All models of one version.
#[derive(Debug, Clone, PartialEq)]
pub struct Schema {
    models: BTreeMap<String, Model>,
}

impl Schema {
    /// The schema of a version.
    pub fn for_profile(profile: Profile) -> Schema {
        let mut models = BTreeMap::new();
        for model in sale_models(profile)
            .into_iter()
            .chain(other_models(profile))
        {
            models.insert(model.name.clone(), model);
        }
        Schema { models }
    }

    /// A model by technical name.
    pub fn model(&self, name: &str) -> Option<&Model> {
        self.models.get(name)
    }
}

fn sale_models(profile: Profile) -> Vec<Model> {
    let text = if profile.version >= 19 {
        SALE_19
    } else {
        SALE_18
    };
    let parsed: Map<String, Value> = serde_json::from_str(text).unwrap_or_default();
    let mut order = model_from(
        "sale.order",
        "Sales Order",
        "date_order desc, id desc",
        &parsed,
    );
    let line = model_from(
        "sale.order.line",
        "Sales Order Line",
        "order_id, sequence, id",
        &parsed,
    );
    if !profile.locked_field() {
        use_done_state(&mut order);
    }
    vec![order, line]
}

fn model_from(name: &str, description: &str, order: &str, parsed: &Map<String, Value>) -> Model {
    let fields = parsed
        .get(name)
        .and_then(Value::as_object)
        .map(|fields| {
            fields
                .iter()
                .filter_map(|(k, v)| {
                    Some((
                        k.clone(),
                        Field {
                            attributes: v.as_object()?.clone(),
                        },
                    ))
                })
                .collect()
        })
        .unwrap_or_default();
    Model {
        name: name.into(),
        description: description.into(),
        fields,
        default_order: order.into(),
        sales_protected: true,
    }
}

fn use_done_state(order: &mut Model) {
    order.fields.remove("locked");
    if let Some(state) = order.fields.get_mut("state") {
        state.attributes.insert(
            "selection".into(),
            json!([
                ["draft", "Quotation"],
                ["sent", "Quotation Sent"],
                ["sale", "Sales Order"],
                ["done", "Locked"],
                ["cancel", "Cancelled"]
            ]),
        );
    }
}

fn other_models(profile: Profile) -> Vec<Model> {
    vec![
        product_model(),
        uom_model(profile),
        users_model(profile),
        groups_model(),
    ]
}

fn simple_model(
    name: &str,
    description: &str,
    order: &str,
    fields: &[(&str, &str, &str, Option<&str>, bool)],
) -> Model {
    let mut map = BTreeMap::new();
    let base: [(&str, &str, &str, Option<&str>, bool); 4] = [
        ("id", "integer", "ID", None, true),
        ("display_name", "char", "Display Name", None, false),
        ("write_date", "datetime", "Last Updated on", None, true),
        ("create_date", "datetime", "Created on", None, true),
    ];
    for (field, kind, label, relation, store) in base.iter().chain(fields) {
        let mut attributes = Map::new();
        attributes.insert("type".into(), json!(kind));
        attributes.insert("string".into(), json!(label));
        attributes.insert("store".into(), json!(store));
        if let Some(relation) = relation {
            attributes.insert("relation".into(), json!(relation));
        }
        map.insert((*field).to_owned(), Field { attributes });
    }
    Model {
        name: name.into(),
        description: description.into(),
        fields: map,
        default_order: order.into(),
        sales_protected: false,
    }
}

fn product_model() -> Model {
    simple_model(
        "product.product",
        "Product Variant",
        "default_code, name, id",
        &[
            ("default_code", "char", "Internal Reference", None, true),
            ("name", "char", "Name", None, true),
            ("barcode", "char", "Barcode", None, true),
            ("uom_id", "many2one", "Unit", Some("uom.uom"), true),
            ("active", "boolean", "Active", None, true),
        ],
    )
}

fn uom_model(profile: Profile) -> Model {
    let common = [
        ("name", "char", "Unit Name", None, true),
        ("factor", "float", "Ratio", None, true),
        ("active", "boolean", "Active", None, true),
    ];
    if profile.version >= 19 {
        let extra = [
            ("relative_factor", "float", "Contains", None, true),
            (
                "relative_uom_id",
                "many2one",
                "Reference Unit",
                Some("uom.uom"),
                true,
            ),
            ("rounding", "float", "Rounding Precision", None, false),
        ];
        let fields: Vec<_> = common.into_iter().chain(extra).collect();
        return simple_model("uom.uom", "Product Unit", "sequence, id", &fields);
    }
    let extra = [
        (
            "category_id",
            "many2one",
            "Category",
            Some("uom.category"),
            true,
        ),
        ("factor_inv", "float", "Bigger Ratio", None, false),
        ("uom_type", "selection", "Type", None, true),
        ("rounding", "float", "Rounding Precision", None, true),
    ];
    let fields: Vec<_> = common.into_iter().chain(extra).collect();
    let mut model = simple_model(
        "uom.uom",
        "Product Unit of Measure",
        "factor DESC, id",
        &fields,
    );
    if let Some(field) = model.fields.get_mut("uom_type") {
        field.attributes.insert(
            "selection".into(),
            json!([
                ["bigger", "Bigger than the reference Unit of Measure"],
                ["reference", "Reference Unit of Measure for this category"],
                ["smaller", "Smaller than the reference Unit of Measure"]
            ]),
        );
    }
    model
}

fn users_model(profile: Profile) -> Model {
    simple_model(
        "res.users",
        "User",
        "name, login",
        &[
            ("name", "char", "Name", None, true),
            ("login", "char", "Login", None, true),
            ("active", "boolean", "Active", None, true),
            ("share", "boolean", "Share User", None, true),
            (
                "company_id",
                "many2one",
                "Company",
                Some("res.company"),
                true,
            ),
            (
                profile.user_groups_field(),
                "many2many",
                "Groups",
                Some("res.groups"),
                true,
            ),
        ],
    )
}

fn groups_model() -> Model {
    simple_model(
        "res.groups",
        "Access Groups",
        "name",
        &[
            ("name", "char", "Name", None, true),
            ("full_name", "char", "Group Name", None, false),
        ],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_recorded_sale_order_fields_are_all_there() {
        let schema = Schema::for_profile(Profile { version: 18 });

        assert_eq!(schema.model("sale.order").map(|m| m.fields.len()), Some(98));
        assert_eq!(
            schema.model("sale.order.line").map(|m| m.fields.len()),
            Some(71)
        );
    }

    #[test]
    fn version_16_has_state_done_and_no_locked_field() {
        let schema = Schema::for_profile(Profile { version: 16 });
        let order = schema.model("sale.order").unwrap();

        assert!(!order.fields.contains_key("locked"));
        assert!(order.fields["state"].attributes["selection"]
            .to_string()
            .contains("done"));
    }

    #[test]
    fn version_19_names_the_line_unit_product_uom_id() {
        let schema = Schema::for_profile(Profile { version: 19 });
        let line = schema.model("sale.order.line").unwrap();

        assert!(line.fields.contains_key("product_uom_id"));
        assert!(!line.fields.contains_key("product_uom"));
    }
}
