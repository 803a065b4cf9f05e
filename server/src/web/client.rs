//! The address a request came from, for failure budgets only (never stored).
//!
//! Behind reverse proxies the peer is a proxy, and the client's address is in
//! a header the proxies append to. Everything left of what the proxies wrote
//! is whatever the client sent, so the header is read from the right: the
//! client is the rightmost address that is not one of the configured proxies.
//! The header is read only when the peer itself is one of them; from any other
//! peer it is ignored, so a client cannot name itself a new address.

use std::net::{IpAddr, SocketAddr};

use actix_web::HttpRequest;
use ipnet::IpNet;

#[cfg(test)]
use crate::settings::parse_proxy;
use crate::settings::{ProxyHeader, Settings};

/// The client's address: the peer's, or when the peer is a trusted proxy,
/// the rightmost untrusted address of the forwarding header.
pub fn client_ip(req: &HttpRequest, settings: &Settings) -> IpAddr {
    let peer = req
        .peer_addr()
        .map_or(IpAddr::from([0, 0, 0, 0]), |a| a.ip());
    let name = match settings.proxy_header {
        ProxyHeader::XForwardedFor => "x-forwarded-for",
        ProxyHeader::Forwarded => "forwarded",
    };
    let values: Vec<&str> = req
        .headers()
        .get_all(name)
        .filter_map(|value| value.to_str().ok())
        .collect();
    resolve(
        peer,
        &values,
        &settings.trusted_proxies,
        settings.proxy_header,
    )
}

/// The key a client's failure budget is kept under: an IPv4 address itself,
/// an IPv6 address's /64 network. One household or device is usually given
/// a whole /64, so counting single IPv6 addresses would give one client
/// billions of budgets.
pub fn budget_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let mut segments = v6.segments();
                segments[4..].fill(0);
                IpAddr::from(segments)
            }
        },
    }
}

/// The client behind `peer`, given the forwarding header's values in the
/// order received (a header may come more than once; together they are one
/// list).
pub fn resolve(
    peer: IpAddr,
    header_values: &[&str],
    trusted: &[IpNet],
    header: ProxyHeader,
) -> IpAddr {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(&peer) {
        return peer;
    }
    let entries: Vec<&str> = header_values
        .iter()
        .flat_map(|value| value.split(','))
        .collect();
    let mut client = peer;
    for entry in entries.iter().rev() {
        let address = match header {
            ProxyHeader::XForwardedFor => parse_address(entry.trim()),
            ProxyHeader::Forwarded => forwarded_for(entry),
        };
        // An entry the nearest trusted proxy wrote that is not an address
        // ("unknown", an obfuscated name, garbage): the proxy could not say,
        // so the last address known for certain stands.
        let Some(address) = address else {
            return client;
        };
        client = address;
        if !is_trusted(&address) {
            return address;
        }
    }
    client
}

/// The `for=` parameter of one element of an RFC 7239 `Forwarded` header.
fn forwarded_for(element: &str) -> Option<IpAddr> {
    element.split(';').find_map(|pair| {
        let (key, value) = pair.split_once('=')?;
        key.trim()
            .eq_ignore_ascii_case("for")
            .then(|| parse_address(value.trim().trim_matches('"')))
            .flatten()
    })
}

/// An address as proxies write it: `192.0.2.1`, `192.0.2.1:4711`,
/// `2001:db8::1` or `[2001:db8::1]:4711`.
fn parse_address(text: &str) -> Option<IpAddr> {
    text.parse::<IpAddr>()
        .ok()
        .or_else(|| text.parse::<SocketAddr>().ok().map(|s| s.ip()))
        .or_else(|| {
            text.strip_prefix('[')
                .and_then(|rest| rest.strip_suffix(']'))
                .and_then(|inner| inner.parse().ok())
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse()
            .unwrap_or_else(|_| panic!("bad test address {text}"))
    }

    fn nets(list: &[&str]) -> Vec<IpNet> {
        list.iter()
            .map(|n| parse_proxy(n).unwrap_or_else(|e| panic!("{e}")))
            .collect()
    }

    #[test]
    fn an_untrusted_peer_cannot_name_another_address() {
        let trusted = nets(&["10.0.0.0/8"]);
        for header in [ProxyHeader::XForwardedFor, ProxyHeader::Forwarded] {
            assert_eq!(
                resolve(
                    ip("198.51.100.7"),
                    &["203.0.113.9", "for=203.0.113.9"],
                    &trusted,
                    header
                ),
                ip("198.51.100.7")
            );
        }
        assert_eq!(
            resolve(
                ip("10.0.0.1"),
                &["203.0.113.9"],
                &[],
                ProxyHeader::XForwardedFor
            ),
            ip("10.0.0.1"),
            "with no proxies configured the header is never read"
        );
    }

    #[test]
    fn behind_trusted_proxies_the_rightmost_untrusted_address_is_the_client() {
        let trusted = nets(&["10.0.0.0/8", "192.168.1.1"]);
        // The client sent a made-up first entry; the edge proxy appended the
        // real peer, an inner proxy appended the edge.
        assert_eq!(
            resolve(
                ip("10.0.0.2"),
                &["1.2.3.4, 198.51.100.7", "192.168.1.1"],
                &trusted,
                ProxyHeader::XForwardedFor
            ),
            ip("198.51.100.7")
        );
        assert_eq!(
            resolve(
                ip("10.0.0.2"),
                &[r#"for=1.2.3.4, for="[2001:db8::7]:4711";proto=https, for=192.168.1.1"#],
                &trusted,
                ProxyHeader::Forwarded
            ),
            ip("2001:db8::7")
        );
        assert_eq!(
            resolve(
                ip("10.0.0.2"),
                &["198.51.100.7:5000"],
                &trusted,
                ProxyHeader::XForwardedFor
            ),
            ip("198.51.100.7")
        );
    }

    #[test]
    fn the_other_header_is_ignored_and_unreadable_entries_stop_the_walk() {
        let trusted = nets(&["10.0.0.0/8"]);
        // Configured for X-Forwarded-For, a Forwarded-style value is not an
        // address: the trusted peer is all that is known.
        assert_eq!(
            resolve(
                ip("10.0.0.2"),
                &["for=198.51.100.7"],
                &trusted,
                ProxyHeader::XForwardedFor
            ),
            ip("10.0.0.2")
        );
        assert_eq!(
            resolve(
                ip("10.0.0.2"),
                &["198.51.100.7, unknown, 10.0.0.3"],
                &trusted,
                ProxyHeader::XForwardedFor
            ),
            ip("10.0.0.3"),
            "an unreadable entry is where certainty ends"
        );
        assert_eq!(
            resolve(ip("10.0.0.2"), &[], &trusted, ProxyHeader::XForwardedFor),
            ip("10.0.0.2")
        );
    }

    #[test]
    fn an_ipv6_client_has_one_budget_per_64_network() {
        assert_eq!(
            budget_key(ip("2001:db8:1:2:aaaa::1")),
            budget_key(ip("2001:db8:1:2:ffff::9"))
        );
        assert_ne!(
            budget_key(ip("2001:db8:1:2::1")),
            budget_key(ip("2001:db8:1:3::1"))
        );
        assert_eq!(budget_key(ip("192.0.2.1")), ip("192.0.2.1"));
        assert_eq!(budget_key(ip("::ffff:192.0.2.1")), ip("192.0.2.1"));
    }

    #[test]
    fn proxies_are_networks_or_single_addresses() {
        assert!(parse_proxy("10.0.0.0/8").is_ok());
        assert!(parse_proxy("2001:db8::/32").is_ok());
        assert_eq!(
            parse_proxy("10.1.2.3").unwrap(),
            "10.1.2.3/32".parse::<IpNet>().unwrap()
        );
        assert!(parse_proxy("10.0.0.0/33").is_err());
        assert!(parse_proxy("proxy.example").is_err());
    }
}
