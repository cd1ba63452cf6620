//! Which servers the client may reach: URL checks and address checks after DNS resolution.
//!
//! A user must not be able to make our server probe its own network. The URL's host is
//! resolved once, every address is checked, and the HTTP client is pinned to exactly those
//! addresses, so a second DNS answer (rebinding) cannot redirect the connection.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use url::{Host, Url};

use crate::error::{ErrorKind, OdooError};

/// What the deployment allows. The default allows neither plain http nor private addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct NetworkPolicy {
    /// Allow `http://` URLs (otherwise only `https://`).
    pub allow_http: bool,
    /// Allow loopback, private, link-local, metadata and other non-public addresses.
    pub allow_private: bool,
}

impl NetworkPolicy {
    /// Everything allowed: for tests and the demo against a local sandbox.
    pub fn allow_all() -> NetworkPolicy {
        NetworkPolicy {
            allow_http: true,
            allow_private: true,
        }
    }
}

/// A checked server URL: http(s), a host, no credentials, no query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerUrl {
    base: Url,
}

impl ServerUrl {
    /// Parses and checks a connection URL; a bare host name means `https://host`.
    pub fn parse(text: &str, policy: NetworkPolicy) -> Result<ServerUrl, OdooError> {
        let text = text.trim();
        let with_scheme = match text.contains("://") {
            true => text.to_owned(),
            false => format!("https://{text}"),
        };
        let mut base = Url::parse(&with_scheme).map_err(|e| invalid(&e.to_string()))?;

        check_shape(&base, policy)?;
        base.set_query(None);
        base.set_fragment(None);
        let path = base.path().trim_end_matches('/').to_owned();
        base.set_path(&path);
        Ok(ServerUrl { base })
    }

    /// The host name or address literal.
    pub fn host(&self) -> Option<Host<&str>> {
        self.base.host()
    }

    /// The port, explicit or the scheme's default.
    pub fn port(&self) -> u16 {
        self.base.port_or_known_default().unwrap_or(443)
    }

    /// The URL of `path` (starting with `/`) on this server.
    pub fn join(&self, segments: &[&str]) -> Url {
        let mut url = self.base.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend(segments);
        }
        url
    }
}

fn check_shape(url: &Url, policy: NetworkPolicy) -> Result<(), OdooError> {
    match url.scheme() {
        "https" => {}
        "http" if policy.allow_http => {}
        "http" => return Err(not_allowed("plain http is not allowed; use https")),
        _ => return Err(invalid("the URL must start with https://")),
    }
    if url.host().is_none() {
        return Err(invalid("the URL has no host"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(invalid("the URL must not contain credentials"));
    }
    Ok(())
}

/// Resolves the server's host (waiting at most `timeout`) and checks every address against
/// the policy.
pub async fn resolve(
    server: &ServerUrl,
    policy: NetworkPolicy,
    timeout: Duration,
) -> Result<Vec<SocketAddr>, OdooError> {
    let port = server.port();
    let addrs: Vec<SocketAddr> = match server.host() {
        Some(Host::Ipv4(ip)) => vec![SocketAddr::new(IpAddr::V4(ip), port)],
        Some(Host::Ipv6(ip)) => vec![SocketAddr::new(IpAddr::V6(ip), port)],
        Some(Host::Domain(name)) => lookup(name, port, timeout).await?,
        None => return Err(invalid("the URL has no host")),
    };

    if !policy.allow_private {
        if let Some(addr) = addrs.iter().find(|a| !is_public(a.ip())) {
            let kind = address_kind(addr.ip());
            return Err(not_allowed(&format!(
                "the server resolves to a {kind} address"
            )));
        }
    }
    Ok(addrs)
}

async fn lookup(name: &str, port: u16, timeout: Duration) -> Result<Vec<SocketAddr>, OdooError> {
    let found = tokio::time::timeout(timeout, tokio::net::lookup_host((name, port)))
        .await
        .map_err(|_| OdooError::new(ErrorKind::Network, "dns: no answer in time"))?;
    let addrs: Vec<SocketAddr> = found
        .map_err(|e| OdooError::new(ErrorKind::Network, format!("dns: {e}")))?
        .collect();
    match addrs.is_empty() {
        true => Err(OdooError::new(ErrorKind::Network, "dns: no address")),
        false => Ok(addrs),
    }
}

/// Whether an address is on the public internet.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => is_public_v4(v4),
            None => is_public_v6(v6),
        },
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    let shared = a == 100 && (64..128).contains(&b);
    let reserved = a >= 240 || a == 0;
    let benchmarking = a == 198 && (b == 18 || b == 19);
    !(ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_broadcast()
        || ip.is_documentation()
        || ip.is_multicast()
        || shared
        || reserved
        || benchmarking)
}

/// Public unless in a non-public range or embedding an IPv4 address (IPv4-compatible,
/// IPv4-translated, 6to4, NAT64, Teredo), which could reach IPv4 hosts behind it.
fn is_public_v6(ip: Ipv6Addr) -> bool {
    let segments = ip.segments();
    let [first, second, ..] = segments;
    let unique_local = (first & 0xfe00) == 0xfc00;
    let link_local = (first & 0xffc0) == 0xfe80;
    let site_local = (first & 0xffc0) == 0xfec0;
    let documentation = first == 0x2001 && second == 0x0db8;
    let teredo = first == 0x2001 && second == 0x0000;
    let six_to_four = first == 0x2002;
    let nat64 = first == 0x0064;
    let ipv4_compatible = segments[..5].iter().all(|s| *s == 0);
    let ipv4_translated = segments[..4] == [0, 0, 0, 0] && segments[4] == 0xffff;
    !(ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        || unique_local
        || link_local
        || site_local
        || documentation
        || teredo
        || six_to_four
        || nat64
        || ipv4_compatible
        || ipv4_translated)
}

fn address_kind(ip: IpAddr) -> &'static str {
    let metadata = [IpAddr::V4(Ipv4Addr::new(169, 254, 169, 254))];
    match ip {
        _ if metadata.contains(&ip) => "cloud metadata",
        _ if ip.is_loopback() => "loopback",
        IpAddr::V4(v4) if v4.is_link_local() => "link-local",
        IpAddr::V4(v4) if v4.is_private() => "private",
        _ => "non-public",
    }
}

fn invalid(detail: &str) -> OdooError {
    OdooError::new(ErrorKind::InvalidUrl, detail.to_owned())
}

fn not_allowed(detail: &str) -> OdooError {
    OdooError::new(ErrorKind::UrlNotAllowed, detail.to_owned())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    const SECOND: Duration = Duration::from_secs(1);

    fn strict(text: &str) -> Result<ServerUrl, OdooError> {
        ServerUrl::parse(text, NetworkPolicy::default())
    }

    #[test]
    fn a_bare_host_name_means_https() {
        let url = strict("mycompany.odoo.com/").unwrap();

        assert_eq!(
            url.join(&["jsonrpc"]).as_str(),
            "https://mycompany.odoo.com/jsonrpc"
        );
    }

    #[test]
    fn plain_http_is_refused_unless_allowed() {
        assert_eq!(
            strict("http://odoo.example.com").unwrap_err().kind(),
            ErrorKind::UrlNotAllowed
        );
        assert!(ServerUrl::parse("http://odoo.example.com", NetworkPolicy::allow_all()).is_ok());
    }

    #[test]
    fn malformed_urls_and_credentials_are_invalid() {
        for text in [
            "https://",
            "ftp://odoo.example.com",
            "https://user:pw@odoo.example.com",
            "https://exa mple.com",
        ] {
            assert_eq!(
                strict(text).unwrap_err().kind(),
                ErrorKind::InvalidUrl,
                "{text}"
            );
        }
    }

    #[test]
    fn paths_are_joined_segment_by_segment() {
        let url = strict("https://odoo.example.com/erp/?x=1#y").unwrap();

        assert_eq!(
            url.join(&["json", "2", "sale.order", "search_read"])
                .as_str(),
            "https://odoo.example.com/erp/json/2/sale.order/search_read"
        );
    }

    #[test]
    fn loopback_private_link_local_and_metadata_addresses_are_not_public() {
        for text in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fd00:ec2::254",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::127.0.0.1",
            "::ffff:0:127.0.0.1",
            "2002:7f00:1::",
            "64:ff9b::7f00:1",
            "2001::1",
            "fec0::1",
        ] {
            assert!(!is_public(text.parse().unwrap()), "{text}");
        }
        assert!(is_public("93.184.216.34".parse().unwrap()));
        assert!(is_public("2606:2800:220:1::1".parse().unwrap()));
    }

    #[tokio::test]
    async fn an_address_literal_pointing_at_metadata_is_refused() {
        let url = strict("https://169.254.169.254").unwrap();

        let error = resolve(&url, NetworkPolicy::default(), SECOND)
            .await
            .unwrap_err();

        assert_eq!(error.kind(), ErrorKind::UrlNotAllowed);
        assert!(error.detail().contains("metadata"));
    }

    #[tokio::test]
    async fn a_name_resolving_to_loopback_is_refused_unless_allowed() {
        let url = ServerUrl::parse("http://localhost:8069", NetworkPolicy::allow_all()).unwrap();
        let strict_policy = NetworkPolicy {
            allow_http: true,
            allow_private: false,
        };

        assert_eq!(
            resolve(&url, strict_policy, SECOND)
                .await
                .unwrap_err()
                .kind(),
            ErrorKind::UrlNotAllowed
        );
        assert!(resolve(&url, NetworkPolicy::allow_all(), SECOND)
            .await
            .is_ok());
    }

    #[tokio::test]
    async fn a_name_that_does_not_resolve_is_a_network_error() {
        let url = strict("https://no-such-host.invalid").unwrap();

        let error = resolve(&url, NetworkPolicy::default(), SECOND)
            .await
            .unwrap_err();

        assert_eq!(error.kind(), ErrorKind::Network);
    }
}
