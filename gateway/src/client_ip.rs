//! Who the client is, for rate limits and audit: the socket peer, unless the peer is a proxy
//! listed in `GATEWAY_TRUSTED_PROXIES`; then the right-most address of `X-Forwarded-For` that
//! is not one of those proxies. Addresses left of it were written by the client itself and are
//! never believed.

use std::{
    net::{IpAddr, SocketAddr},
    str::FromStr,
};

use axum::{
    extract::{ConnectInfo, FromRequestParts},
    http::{HeaderMap, request::Parts},
};
use ipnet::IpNet;

use crate::AppState;

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
        let mut client = canonical(peer);
        if !self.trusts(client) {
            return client;
        }
        // Every X-Forwarded-For line, in order, as one list; walked from the right.
        let hops = headers
            .get_all(FORWARDED_FOR)
            .iter()
            .flat_map(|value| value.to_str().unwrap_or_default().split(','))
            .collect::<Vec<_>>();
        for hop in hops.iter().rev() {
            // An unreadable hop ends what can be believed: the last trusted hop is the client.
            let Ok(address) = hop.trim().parse::<IpAddr>() else {
                break;
            };
            client = canonical(address);
            if !self.trusts(client) {
                break;
            }
        }
        client
    }
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

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        // Served without connect info (a router driven by `oneshot` in a test): no peer.
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map_or(IpAddr::from([0, 0, 0, 0]), |ConnectInfo(peer)| peer.ip());
        Ok(Self(state.trusted_proxies.client_ip(peer, &parts.headers)))
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
        let mut headers = HeaderMap::new();
        for line in lines {
            headers.append(FORWARDED_FOR, HeaderValue::from_str(line).unwrap());
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
    fn garbage_in_the_header_stops_the_walk_at_the_last_trusted_hop() {
        let trusted = proxies("10.0.0.0/8");
        let headers = forwarded(&["203.0.113.9, not-an-ip, 10.0.0.2"]);
        assert_eq!(trusted.client_ip(ip("10.0.0.1"), &headers), ip("10.0.0.2"));
        assert_eq!(
            trusted.client_ip(ip("10.0.0.1"), &HeaderMap::new()),
            ip("10.0.0.1")
        );
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
    fn the_setting_is_checked_at_start() {
        assert_eq!(proxies(""), TrustedProxies::default());
        assert!("10.0.0.0/33".parse::<TrustedProxies>().is_err());
        assert!("proxy.internal".parse::<TrustedProxies>().is_err());
    }
}
