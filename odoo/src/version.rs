//! Server versions and every difference between them the client cares about, in one place.

use crate::error::{ErrorKind, OdooError};
use crate::methods::Method;
use crate::value::Value;

/// The oldest major version supported.
pub const MIN_SUPPORTED_MAJOR: u32 = 14;

/// A server version as Odoo reports it (`server_version_info` / `version_info`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OdooVersion {
    /// Major version, e.g. 18 (Odoo Online `saas~17.4` reports 17).
    pub major: u32,
    /// Minor version (0 for on-premise releases, the SaaS step on Odoo Online).
    pub minor: u32,
    /// The version text, e.g. `18.0` or `saas~17.4`.
    pub text: String,
}

/// How a unit of measure is defined.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UomScheme {
    /// Up to 18: units grouped in categories, each with a `factor` to the reference unit.
    Categories,
    /// From 19: a unit is `relative_factor` times its `relative_uom_id`.
    Relative,
}

impl OdooVersion {
    /// Reads a `version_info` / `server_version_info` array; `text` is the version string.
    pub fn from_info(info: &Value, text: Option<&str>) -> Result<OdooVersion, OdooError> {
        let items = info
            .as_array()
            .ok_or_else(|| malformed("version_info is not a list"))?;
        let major = items
            .first()
            .and_then(major_of)
            .ok_or_else(|| malformed("no major"))?;
        let minor = items.get(1).and_then(Value::as_i64).unwrap_or(0);

        Ok(OdooVersion {
            major,
            minor: u32::try_from(minor).unwrap_or(0),
            text: text.map_or_else(|| format!("{major}.{minor}"), str::to_owned),
        })
    }

    /// Reads the answer of `common.version()`.
    pub fn from_common_version(answer: &Value) -> Result<OdooVersion, OdooError> {
        let members = answer
            .as_struct()
            .ok_or_else(|| malformed("version is not an object"))?;
        let info = members
            .get("server_version_info")
            .ok_or_else(|| malformed("no version"))?;
        let text = members.get("server_version").and_then(Value::as_str);
        OdooVersion::from_info(info, text)
    }

    /// Fails with [`ErrorKind::UnsupportedVersion`] below Odoo 14.
    pub fn ensure_supported(&self) -> Result<(), OdooError> {
        match self.major >= MIN_SUPPORTED_MAJOR {
            true => Ok(()),
            false => Err(OdooError::new(
                ErrorKind::UnsupportedVersion,
                format!("Odoo {} is older than {MIN_SUPPORTED_MAJOR}", self.text),
            )),
        }
    }

    /// Whether the server serves JSON-2 (`/json/2/<model>/<method>`).
    pub fn has_json2(&self) -> bool {
        self.major >= 19
    }

    /// The boolean read-access check this version offers.
    pub fn access_check(&self) -> Method {
        match self.major >= 18 {
            true => Method::HasAccess,
            false => Method::CheckAccessRights,
        }
    }

    /// The `sale.order.line` field holding the unit of measure.
    pub fn line_uom_field(&self) -> &'static str {
        match self.major >= 19 {
            true => "product_uom_id",
            false => "product_uom",
        }
    }

    /// The `sale.order.line` field holding the taxes.
    pub fn line_tax_field(&self) -> &'static str {
        match self.major >= 19 {
            true => "tax_ids",
            false => "tax_id",
        }
    }

    /// The `res.users` field holding the user's groups.
    pub fn user_groups_field(&self) -> &'static str {
        match self.major >= 19 {
            true => "group_ids",
            false => "groups_id",
        }
    }

    /// Whether `sale.order` has the boolean `locked` (17+); before, locked orders are `done`.
    pub fn has_locked_field(&self) -> bool {
        self.major >= 17
    }

    /// The `sale.order` states of a confirmed order: `sale` and, up to 16, `done`.
    pub fn confirmed_states(&self) -> &'static [&'static str] {
        match self.has_locked_field() {
            true => &["sale"],
            false => &["sale", "done"],
        }
    }

    /// How units of measure are defined.
    pub fn uom_scheme(&self) -> UomScheme {
        match self.major >= 19 {
            true => UomScheme::Relative,
            false => UomScheme::Categories,
        }
    }
}

fn major_of(value: &Value) -> Option<u32> {
    match value {
        Value::Int(major) => u32::try_from(*major).ok(),
        Value::String(text) => text.trim_start_matches("saas~").parse().ok(),
        _ => None,
    }
}

fn malformed(detail: &str) -> OdooError {
    OdooError::new(ErrorKind::UnexpectedResponse, format!("version: {detail}"))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn version(major: u32) -> OdooVersion {
        OdooVersion {
            major,
            minor: 0,
            text: format!("{major}.0"),
        }
    }

    #[test]
    fn an_odoo_online_version_reads_its_major_from_the_saas_prefix() {
        let info = Value::Array(vec![Value::from("saas~17"), Value::Int(4), Value::Int(0)]);

        let parsed = OdooVersion::from_info(&info, Some("saas~17.4")).unwrap();

        assert_eq!(
            (parsed.major, parsed.minor, parsed.text.as_str()),
            (17, 4, "saas~17.4")
        );
    }

    #[test]
    fn version_differences_follow_the_recorded_servers() {
        assert_eq!(version(16).confirmed_states(), ["sale", "done"]);
        assert_eq!(version(17).confirmed_states(), ["sale"]);
        assert_eq!(version(17).access_check(), Method::CheckAccessRights);
        assert_eq!(version(18).access_check(), Method::HasAccess);
        assert_eq!(version(18).line_uom_field(), "product_uom");
        assert_eq!(version(19).line_uom_field(), "product_uom_id");
        assert!(!version(18).has_json2() && version(19).has_json2());
    }

    #[test]
    fn versions_older_than_14_are_unsupported() {
        assert_eq!(
            version(13).ensure_supported().unwrap_err().kind(),
            ErrorKind::UnsupportedVersion
        );
        assert!(version(14).ensure_supported().is_ok());
    }
}
