//! Validated values of a connection's settings. Each `parse` refuses bad input with a
//! [`FieldError`] naming the API field; deserialising from stored events does not re-validate,
//! because events record what was accepted at the time.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use url::{Host, Url};

use crate::validation::{multiline_text, required_text, FieldError};

/// What a deployment allows in connection URLs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UrlPolicy {
    /// Whether plain `http://` is accepted (development and tests only).
    pub allow_insecure_http: bool,
    /// Whether loopback, private and link-local addresses are accepted.
    pub allow_private_networks: bool,
}

/// A connection's display name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ConnectionName(String);

impl ConnectionName {
    /// 1 to 200 characters on one line.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        required_text("name", raw, 200).map(Self)
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The Odoo server's base URL, normalised: scheme and host in lower case, default port and
/// trailing slash removed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct OdooUrl(String);

impl OdooUrl {
    /// The longest URL accepted.
    pub const MAX_LEN: usize = 2048;

    /// An absolute `https://` URL (or `http://` where the policy allows it) without
    /// credentials, query or fragment, whose host is not a private address unless allowed.
    pub fn parse(raw: &str, policy: UrlPolicy) -> Result<Self, FieldError> {
        let raw = required_text("url", raw, Self::MAX_LEN)?;
        let mut url = Url::parse(&raw).map_err(|_| {
            FieldError::new(
                "url",
                "must be an absolute URL such as https://mycompany.odoo.com",
            )
        })?;
        check_scheme(&url, policy)?;
        check_parts(&url)?;
        normalise_host(&mut url)?;
        check_host(&url, policy)?;

        let path = normalise_path(url.path());
        url.set_path(&path);
        let text = url.as_str().trim_end_matches('/').to_owned();
        if text.len() > Self::MAX_LEN {
            return Err(FieldError::new(
                "url",
                "must be at most 2048 bytes once encoded",
            ));
        }
        Ok(Self(text))
    }

    /// The URL as text, without a trailing slash.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn check_scheme(url: &Url, policy: UrlPolicy) -> Result<(), FieldError> {
    match url.scheme() {
        "https" => Ok(()),
        "http" if policy.allow_insecure_http => Ok(()),
        "http" => Err(FieldError::new(
            "url",
            "must start with https://; plain http:// is not allowed on this deployment",
        )),
        _ => Err(FieldError::new("url", "must start with https://")),
    }
}

fn check_parts(url: &Url) -> Result<(), FieldError> {
    if !url.username().is_empty() || url.password().is_some() {
        return Err(FieldError::new(
            "url",
            "must not contain a user name or password; enter them in their own fields",
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(FieldError::new(
            "url",
            "must not contain a query (?) or fragment (#)",
        ));
    }
    Ok(())
}

/// One host, one spelling: a trailing dot dropped, labels of letters, digits and inner
/// hyphens only, no port 0.
fn normalise_host(url: &mut Url) -> Result<(), FieldError> {
    if url.port() == Some(0) {
        return Err(FieldError::new("url", "must not use port 0"));
    }
    let Some(Host::Domain(name)) = url.host() else {
        return Ok(());
    };
    let name = name.trim_end_matches('.').to_owned();
    let valid_label = |label: &str| {
        !label.is_empty()
            && label.len() <= 63
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    };
    if name.len() > 253 || !name.split('.').all(valid_label) {
        return Err(FieldError::new(
            "url",
            "must name a valid host such as mycompany.odoo.com",
        ));
    }
    url.set_host(Some(&name))
        .map_err(|_| FieldError::new("url", "must name a valid host such as mycompany.odoo.com"))
}

/// The path with percent-escapes of unreserved characters decoded (`%7E` is `~`) and the
/// remaining escapes in upper case, so that one path has one spelling.
fn normalise_path(path: &str) -> String {
    let bytes = path.as_bytes();
    let mut out = String::with_capacity(path.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = (bytes[i] == b'%')
            .then(|| path.get(i + 1..i + 3))
            .flatten()
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match escaped {
            Some(byte) if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) => {
                out.push(char::from(byte));
                i += 3;
            }
            Some(byte) => {
                out.push_str(&format!("%{byte:02X}"));
                i += 3;
            }
            None => {
                out.push(char::from(bytes[i]));
                i += 1;
            }
        }
    }
    out
}

fn check_host(url: &Url, policy: UrlPolicy) -> Result<(), FieldError> {
    let private = match url.host() {
        None => return Err(FieldError::new("url", "must name a host")),
        Some(Host::Ipv4(ip)) => is_private_address(IpAddr::V4(ip)),
        Some(Host::Ipv6(ip)) => is_private_address(IpAddr::V6(ip)),
        Some(Host::Domain(name)) => is_private_name(name),
    };
    if private && !policy.allow_private_networks {
        return Err(FieldError::new(
            "url",
            "points at a private or local network address, which this deployment does not allow",
        ));
    }
    Ok(())
}

fn is_private_name(name: &str) -> bool {
    let name = name.trim_end_matches('.');
    name == "localhost" || name.ends_with(".localhost") || name.ends_with(".internal")
}

/// Whether an address is loopback, private, link-local (cloud metadata included), shared,
/// unspecified, multicast or otherwise not a public Internet address.
pub fn is_private_address(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_private_v4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => is_private_v4(v4),
            None => is_private_v6(v6),
        },
    }
}

fn is_private_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0
        || (a == 100 && (64..128).contains(&b))
        || (a == 192 && b == 0)
        || (a == 198 && (18..20).contains(&b))
        || a >= 240
}

/// IPv6 ranges that are not public, and those that embed an IPv4 address (IPv4-compatible,
/// IPv4-translated, 6to4, NAT64, Teredo), which count as private: they can reach IPv4 hosts.
fn is_private_v6(ip: Ipv6Addr) -> bool {
    let [first, second, ..] = ip.segments();
    ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        || (first & 0xfe00) == 0xfc00
        || (first & 0xffc0) == 0xfe80
        || (first & 0xffc0) == 0xfec0
        || (first == 0x2001 && (second == 0x0db8 || second == 0x0000))
        || first == 0x2002
        || first == 0x0064
        || ip.segments()[..5].iter().all(|s| *s == 0)
        || ip.segments()[..4] == [0xffff, 0, 0, 0]
        || (ip.segments()[..4] == [0, 0, 0, 0] && ip.segments()[4] == 0xffff)
}

/// The Odoo database name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct DatabaseName(String);

impl DatabaseName {
    /// 1 to 128 characters on one line.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        required_text("database", raw, 128).map(Self)
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The Odoo login the API key belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Username(String);

impl Username {
    /// 1 to 256 characters on one line.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        required_text("username", raw, 256).map(Self)
    }

    /// The login.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An Odoo domain filter exactly as the user typed it; its syntax is checked against the
/// server when the connection is tested.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct DomainFilter(String);

impl DomainFilter {
    /// The longest filter accepted, in characters.
    pub const MAX_LEN: usize = 10_000;

    /// Any non-empty text up to 10,000 characters, line breaks allowed.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        multiline_text("domainFilter", raw, Self::MAX_LEN).map(Self)
    }

    /// The text as given.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An inclusive range of order dates, read in the account's time zone; either end may be open.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderDateRange {
    /// The first order date imported.
    pub from: Option<NaiveDate>,
    /// The last order date imported.
    pub to: Option<NaiveDate>,
}

impl OrderDateRange {
    /// Refuses a range whose start lies after its end.
    pub fn new(from: Option<NaiveDate>, to: Option<NaiveDate>) -> Result<Self, FieldError> {
        let plausible = |day: &NaiveDate| (1900..=2200).contains(&day.year());
        if from.as_ref().is_some_and(|day| !plausible(day)) {
            return Err(FieldError::new(
                "orderDateFrom",
                "must lie between the years 1900 and 2200",
            ));
        }
        if to.as_ref().is_some_and(|day| !plausible(day)) {
            return Err(FieldError::new(
                "orderDateTo",
                "must lie between the years 1900 and 2200",
            ));
        }
        match (from, to) {
            (Some(from), Some(to)) if from > to => Err(FieldError::new(
                "orderDateTo",
                "must not be before orderDateFrom",
            )),
            _ => Ok(Self { from, to }),
        }
    }
}

/// Which API the client speaks to the server.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Protocol {
    /// Chosen from the server's version: JSON-2 on 19 and later, JSON-RPC before.
    #[default]
    Auto,
    /// Odoo 19's JSON-2 API.
    Json2,
    /// The legacy `/jsonrpc` endpoint.
    Jsonrpc,
    /// The legacy `/xmlrpc/2` endpoints.
    Xmlrpc,
}

/// Where a connection's orders come from: its normalised URL and database. Orders are
/// identified by their source, not by the connection, so a connection deleted and created
/// again continues the same records.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SourceKey(String);

impl SourceKey {
    /// The key of a URL and database pair.
    pub fn of(url: &OdooUrl, database: &DatabaseName) -> Self {
        Self(format!("{}\n{}", url.as_str(), database.as_str()))
    }

    /// The key as stored.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// A short, fixed-length digest of the key (32 hexadecimal characters), for ids and
    /// indexes that must not grow with the URL.
    pub fn digest(&self) -> String {
        use sha2::{Digest, Sha256};
        Sha256::digest(self.0.as_bytes())[..16]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    const STRICT: UrlPolicy = UrlPolicy {
        allow_insecure_http: false,
        allow_private_networks: false,
    };
    const OPEN: UrlPolicy = UrlPolicy {
        allow_insecure_http: true,
        allow_private_networks: true,
    };

    #[test]
    fn urls_are_normalised() {
        let url = OdooUrl::parse(" HTTPS://Acme.Odoo.com:443/ ", STRICT).unwrap();
        assert_eq!(url.as_str(), "https://acme.odoo.com");
        let url = OdooUrl::parse("https://erp.acme.com/odoo/", STRICT).unwrap();
        assert_eq!(url.as_str(), "https://erp.acme.com/odoo");
    }

    #[test]
    fn plain_http_needs_the_deployment_to_allow_it() {
        assert!(OdooUrl::parse("http://acme.odoo.com", STRICT).is_err());
        assert!(OdooUrl::parse("http://acme.odoo.com", OPEN).is_ok());
        assert!(OdooUrl::parse("ftp://acme.odoo.com", OPEN).is_err());
    }

    #[test]
    fn urls_with_credentials_query_or_fragment_are_refused() {
        for raw in [
            "https://bob:secret@acme.odoo.com",
            "https://acme.odoo.com/?db=x",
            "https://acme.odoo.com/#home",
            "acme.odoo.com",
        ] {
            assert_eq!(OdooUrl::parse(raw, OPEN).unwrap_err().field, "url", "{raw}");
        }
    }

    #[test]
    fn private_addresses_are_refused_unless_allowed() {
        for raw in [
            "https://127.0.0.1",
            "https://localhost:8069",
            "https://10.1.2.3",
            "https://169.254.169.254",
            "https://[::1]",
            "https://[::ffff:192.168.1.1]",
            "https://[fd00::1]",
            "https://100.64.0.1",
        ] {
            assert!(OdooUrl::parse(raw, STRICT).is_err(), "{raw}");
            assert!(OdooUrl::parse(raw, OPEN).is_ok(), "{raw}");
        }
        assert!(OdooUrl::parse("https://8.8.8.8", STRICT).is_ok());
        for raw in [
            "https://[::127.0.0.1]",
            "https://[::ffff:0:127.0.0.1]",
            "https://[2002:7f00:1::]",
            "https://[fec0::1]",
            "https://[2001::1]",
        ] {
            assert!(OdooUrl::parse(raw, STRICT).is_err(), "{raw}");
        }
        assert!(OdooUrl::parse("https://[2a00:1450:4001:82a::200e]", STRICT).is_ok());
    }

    #[test]
    fn one_source_has_one_spelling() {
        let spell = |raw| OdooUrl::parse(raw, STRICT).unwrap().as_str().to_owned();
        assert_eq!(spell("https://acme.odoo.com."), "https://acme.odoo.com");
        assert_eq!(
            spell("https://acme.odoo.com/%7eodoo/%2fx"),
            "https://acme.odoo.com/~odoo/%2Fx"
        );
        assert_eq!(
            spell("https://acme.odoo.com/~odoo"),
            "https://acme.odoo.com/~odoo"
        );
    }

    #[test]
    fn hosts_that_no_server_can_have_are_refused() {
        for raw in [
            "https://*.odoo.com",
            "https://acme_x.odoo.com",
            "https://-acme.odoo.com",
            "https://acme.odoo.com:0",
        ] {
            assert!(OdooUrl::parse(raw, OPEN).is_err(), "{raw}");
        }
    }

    #[test]
    fn a_url_too_long_once_encoded_is_refused() {
        let raw = format!("https://acme.odoo.com/{}", "\u{6F22}".repeat(2000));
        assert_eq!(OdooUrl::parse(&raw, STRICT).unwrap_err().field, "url");
    }

    #[test]
    fn a_date_range_must_not_end_before_it_starts() {
        let day = |d| NaiveDate::from_ymd_opt(2026, 1, d).unwrap();
        assert!(OrderDateRange::new(Some(day(2)), Some(day(1))).is_err());
        assert!(OrderDateRange::new(Some(day(1)), Some(day(1))).is_ok());
        assert!(OrderDateRange::new(None, Some(day(1))).is_ok());
    }
}
