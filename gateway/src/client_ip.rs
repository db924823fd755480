//! Who the client is, for rate limits and audit: the socket peer, unless the peer is a proxy
//! listed in `GATEWAY_TRUSTED_PROXIES`; then the right-most address of `X-Forwarded-For` that
//! is not one of those proxies. Addresses left of it were written by the client itself and are
//! never believed.
//!
//! A hop that cannot be read (a byte that is not ASCII, `unknown`, `for=...`) is skipped, never
//! the end of the walk: a proxy that appends to the client's own header line would otherwise
//! make one client with a broken header "the proxy", and let it spend the budget of everyone
//! behind that proxy. With no readable untrusted hop at all, the peer is the client.

use std::{
    net::{IpAddr, Ipv6Addr, SocketAddr},
    str::FromStr,
    sync::Arc,
};

use axum::{
    extract::{ConnectInfo, FromRef, FromRequestParts},
    http::{HeaderMap, request::Parts},
};
use ipnet::IpNet;

const FORWARDED_FOR: &str = "x-forwarded-for";

/// The proxies whose `X-Forwarded-For` is believed (`GATEWAY_TRUSTED_PROXIES`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpNet>);

impl FromStr for TrustedProxies {
    type Err = String;

    /// Comma-separated CIDRs (`10.0.0.0/8, fd00::/8`) or single addresses; empty for none.
    fn from_str(value: &str) -> Result<Self, Self::Err> {
        value
            .split(',')
            .map(str::trim)
            .filter(|entry| !entry.is_empty())
            .map(|entry| {
                entry
                    .parse::<IpNet>()
                    .or_else(|_| entry.parse::<IpAddr>().map(IpNet::from))
                    .map_err(|_| format!("{entry} is not a CIDR or an IP address"))
            })
            .collect::<Result<_, _>>()
            .map(Self)
    }
}

impl TrustedProxies {
    fn trusts(&self, address: IpAddr) -> bool {
        let address = canonical(address);
        self.0.iter().any(|net| net.contains(&address))
    }

    /// The client's address for a request from `peer` carrying `headers`.
    pub fn client_ip(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let peer = canonical(peer);
        if !self.trusts(peer) {
            return peer;
        }
        // Every X-Forwarded-For line, in order, as one list, walked from the right. Split as
        // bytes: one unreadable hop must not make its whole line unreadable.
        headers
            .get_all(FORWARDED_FOR)
            .iter()
            .rev()
            .flat_map(|line| line.as_bytes().rsplit(|byte| *byte == b','))
            .filter_map(parse_hop)
            .map(canonical)
            .find(|hop| !self.trusts(*hop))
            .unwrap_or(peer)
    }
}

/// One hop of `X-Forwarded-For`: `192.0.2.1`, `192.0.2.1:8080`, `2001:db8::1`,
/// `[2001:db8::1]` or `[2001:db8::1]:443`. Anything else is `None`.
fn parse_hop(hop: &[u8]) -> Option<IpAddr> {
    let hop = std::str::from_utf8(hop.trim_ascii()).ok()?;
    if let Ok(address) = hop.parse::<IpAddr>() {
        return Some(address);
    }
    if let Ok(socket) = hop.parse::<SocketAddr>() {
        return Some(socket.ip());
    }
    let bracketed = hop.strip_prefix('[')?.strip_suffix(']')?;
    bracketed.parse::<Ipv6Addr>().ok().map(IpAddr::V6)
}

/// IPv4-mapped IPv6 addresses (`::ffff:1.2.3.4`, as a dual-stack socket reports IPv4 peers)
/// as plain IPv4, so one client has one address.
fn canonical(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(address, IpAddr::V4),
        IpAddr::V4(_) => address,
    }
}

/// The client's address as an extractor, so every handler gets it the same way.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ClientIp(pub IpAddr);

impl<S> FromRequestParts<S> for ClientIp
where
    S: Send + Sync,
    Arc<TrustedProxies>: FromRef<S>,
{
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        // Served without connect info (a router driven by `oneshot` in a test): no peer.
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map_or(IpAddr::from([0, 0, 0, 0]), |ConnectInfo(peer)| peer.ip());
        let trusted_proxies = Arc::<TrustedProxies>::from_ref(state);
        Ok(Self(trusted_proxies.client_ip(peer, &parts.headers)))
    }
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn proxies(value: &str) -> TrustedProxies {
        value.parse().unwrap()
    }

    fn ip(value: &str) -> IpAddr {
        value.parse().unwrap()
    }

    fn forwarded(lines: &[&str]) -> HeaderMap {
        let lines: Vec<&[u8]> = lines.iter().map(|line| line.as_bytes()).collect();
        forwarded_bytes(&lines)
    }

    /// Header lines as raw bytes, for what a `&str` cannot hold.
    fn forwarded_bytes(lines: &[&[u8]]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for line in lines {
            headers.append(FORWARDED_FOR, HeaderValue::from_bytes(line).unwrap());
        }
        headers
    }

    #[test]
    fn without_trusted_proxies_the_peer_is_the_client_whatever_the_header_says() {
        let headers = forwarded(&["203.0.113.9"]);
        assert_eq!(
            TrustedProxies::default().client_ip(ip("198.51.100.7"), &headers),
            ip("198.51.100.7")
        );
    }

    #[test]
    fn behind_a_trusted_proxy_the_rightmost_untrusted_hop_is_the_client() {
        let trusted = proxies("10.0.0.0/8, 192.168.1.1");
        // The client wrote a fake first hop; the proxies appended the real ones.
        let headers = forwarded(&["1.1.1.1, 203.0.113.9", "10.1.2.3"]);
        assert_eq!(
            trusted.client_ip(ip("192.168.1.1"), &headers),
            ip("203.0.113.9")
        );
    }

    #[test]
    fn a_peer_that_is_not_trusted_cannot_choose_its_address() {
        let trusted = proxies("10.0.0.0/8");
        let headers = forwarded(&["203.0.113.9"]);
        assert_eq!(
            trusted.client_ip(ip("198.51.100.7"), &headers),
            ip("198.51.100.7")
        );
    }

    #[test]
    fn a_non_ascii_byte_in_a_line_skips_that_hop_and_never_makes_the_proxy_the_client() {
        let trusted = proxies("10.0.0.0/8");
        // The client's own line, with the proxy's hop appended to it.
        for line in [
            b"caf\xc3\xa9, 203.0.113.9".as_slice(),
            b"\xff\xfe\x80, 203.0.113.9",
            b"198.51.100.1\xff, 203.0.113.9, 10.0.0.2",
        ] {
            let headers = forwarded_bytes(&[line]);
            assert_eq!(
                trusted.client_ip(ip("10.0.0.1"), &headers),
                ip("203.0.113.9"),
                "{line:?}"
            );
        }
    }

    #[test]
    fn unreadable_hops_are_skipped_and_the_walk_goes_on_to_the_left() {
        let trusted = proxies("10.0.0.0/8");
        let headers = forwarded(&["203.0.113.9, not-an-ip, unknown, , 10.0.0.2"]);
        assert_eq!(
            trusted.client_ip(ip("10.0.0.1"), &headers),
            ip("203.0.113.9")
        );
    }

    #[test]
    fn for_style_pairs_are_junk_and_skipped() {
        let trusted = proxies("10.0.0.0/8");
        let headers = forwarded(&["203.0.113.9, for=198.51.100.1, for=\"[2001:db8::1]\""]);
        assert_eq!(
            trusted.client_ip(ip("10.0.0.1"), &headers),
            ip("203.0.113.9")
        );
    }

    #[test]
    fn several_header_lines_are_one_list_in_their_order() {
        let trusted = proxies("10.0.0.0/8");
        let headers = forwarded(&["198.51.100.1", "203.0.113.9", "10.0.0.3, 10.0.0.2"]);
        assert_eq!(
            trusted.client_ip(ip("10.0.0.1"), &headers),
            ip("203.0.113.9")
        );
        // The last line is the right-most: its hop wins over an earlier line's.
        let headers = forwarded(&["203.0.113.9", "198.51.100.1"]);
        assert_eq!(
            trusted.client_ip(ip("10.0.0.1"), &headers),
            ip("198.51.100.1")
        );
        // An unreadable line is skipped too, not the end of the walk.
        let headers = forwarded_bytes(&[b"203.0.113.9", b"\xff", b"10.0.0.2"]);
        assert_eq!(
            trusted.client_ip(ip("10.0.0.1"), &headers),
            ip("203.0.113.9")
        );
    }

    #[test]
    fn hops_with_ports_and_bracketed_ipv6_are_read() {
        let trusted = proxies("10.0.0.0/8");
        for (hop, client) in [
            ("[2001:db8::1]:443", "2001:db8::1"),
            ("[2001:db8::1]", "2001:db8::1"),
            ("2001:db8::1", "2001:db8::1"),
            ("192.0.2.1:8080", "192.0.2.1"),
            (" 192.0.2.1 ", "192.0.2.1"),
            ("[::ffff:192.0.2.1]:443", "192.0.2.1"),
        ] {
            let headers = forwarded(&[&format!("198.51.100.1, {hop}, 10.0.0.2:3128")]);
            assert_eq!(
                trusted.client_ip(ip("10.0.0.1"), &headers),
                ip(client),
                "{hop}"
            );
        }
        // Brackets around IPv4, or a port without brackets on IPv6, are not addresses.
        for junk in ["[192.0.2.1]", "[2001:db8::1", "2001:db8::1]:443"] {
            let headers = forwarded(&[&format!("198.51.100.1, {junk}")]);
            assert_eq!(
                trusted.client_ip(ip("10.0.0.1"), &headers),
                ip("198.51.100.1"),
                "{junk}"
            );
        }
    }

    #[test]
    fn with_no_readable_untrusted_hop_the_peer_is_the_client() {
        let trusted = proxies("10.0.0.0/8");
        let peer = ip("10.0.0.1");
        for headers in [
            HeaderMap::new(),
            forwarded(&[""]),
            forwarded(&["not-an-ip, unknown, for=203.0.113.9"]),
            forwarded_bytes(&[b"\xff\xfe", b"\x80"]),
            forwarded(&["10.0.0.3, 10.0.0.2"]),
        ] {
            assert_eq!(trusted.client_ip(peer, &headers), peer, "{headers:?}");
        }
    }

    #[test]
    fn ipv4_mapped_peers_count_as_ipv4() {
        let trusted = proxies("127.0.0.1");
        let headers = forwarded(&["203.0.113.9"]);
        assert_eq!(
            trusted.client_ip(ip("::ffff:127.0.0.1"), &headers),
            ip("203.0.113.9")
        );
    }

    #[test]
    fn ipv4_mapped_hops_count_as_ipv4_trusted_or_not() {
        let trusted = proxies("10.0.0.0/8");
        let headers = forwarded(&["::ffff:203.0.113.9, ::ffff:10.0.0.2"]);
        assert_eq!(
            trusted.client_ip(ip("10.0.0.1"), &headers),
            ip("203.0.113.9")
        );
    }

    #[test]
    fn the_setting_is_checked_at_start() {
        assert_eq!(proxies(""), TrustedProxies::default());
        assert!("10.0.0.0/33".parse::<TrustedProxies>().is_err());
        assert!("proxy.internal".parse::<TrustedProxies>().is_err());
    }
}
