//! Which network a client IP counts as: an IPv4 address alone, an IPv6 address by its
//! network of `TOKEN_LIMIT_IPV6_PREFIX` bits. One /64 is one user's network (a host picks
//! any of its 2^64 addresses at will), so a budget per IPv6 address would be no budget at all.

use std::{
    fmt,
    net::{IpAddr, Ipv6Addr},
    str::FromStr,
};

/// How many leading bits of an IPv6 address name one client (`TOKEN_LIMIT_IPV6_PREFIX`):
/// 1..=128, where 128 limits each address apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ipv6Prefix(u8);

impl Ipv6Prefix {
    /// A /64: one user's network.
    pub const DEFAULT: Self = Self(64);
}

impl Default for Ipv6Prefix {
    fn default() -> Self {
        Self::DEFAULT
    }
}

impl FromStr for Ipv6Prefix {
    type Err = String;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        let value = value.trim();
        value
            .strip_prefix('/')
            .unwrap_or(value)
            .parse::<u8>()
            .ok()
            .filter(|bits| (1..=128).contains(bits))
            .map(Self)
            .ok_or_else(|| "must be a prefix length from 1 to 128 (64: one /64 per client)".into())
    }
}

impl fmt::Display for Ipv6Prefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// What the per-IP limits count a client IP as: an IPv4 address (an IPv4-mapped IPv6 one
/// too) as itself, an IPv6 address as its network (`2001:db8:1:2::/64`). A value that is no
/// IP address (a direct gRPC caller's own label) counts as itself.
pub(crate) fn client_network(client_ip: &str, prefix: Ipv6Prefix) -> String {
    let client_ip = client_ip.trim();
    match client_ip.parse::<IpAddr>() {
        Ok(IpAddr::V4(v4)) => v4.to_string(),
        Ok(IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let mask = u128::MAX << (128 - u32::from(prefix.0));
                let network = Ipv6Addr::from(u128::from(v6) & mask);
                format!("{network}/{}", prefix.0)
            }
        },
        Err(_) => client_ip.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prefix(bits: &str) -> Ipv6Prefix {
        bits.parse().unwrap()
    }

    #[test]
    fn ipv6_addresses_count_as_their_network() {
        let slash64 = Ipv6Prefix::DEFAULT;
        assert_eq!(
            client_network("2001:db8:1:2::1", slash64),
            "2001:db8:1:2::/64"
        );
        assert_eq!(
            client_network("2001:db8:1:2:ffff:ffff:ffff:ffff", slash64),
            client_network("2001:0db8:0001:0002::abcd", slash64)
        );
        assert_ne!(
            client_network("2001:db8:1:2::1", slash64),
            client_network("2001:db8:1:3::1", slash64)
        );
        assert_eq!(
            client_network("2001:db8:1:2::1", prefix("48")),
            "2001:db8:1::/48"
        );
        assert_eq!(client_network("2001:db8::ff", prefix("1")), "::/1");
    }

    #[test]
    fn a_prefix_of_128_counts_each_ipv6_address_apart() {
        let each = prefix("128");
        assert_eq!(client_network("2001:db8::1", each), "2001:db8::1/128");
        assert_ne!(
            client_network("2001:db8::1", each),
            client_network("2001:db8::2", each)
        );
    }

    #[test]
    fn ipv4_counts_per_address_and_mapped_ipv6_is_ipv4() {
        let slash64 = Ipv6Prefix::DEFAULT;
        assert_eq!(client_network("203.0.113.9", slash64), "203.0.113.9");
        assert_eq!(client_network("::ffff:203.0.113.9", slash64), "203.0.113.9");
        assert_ne!(
            client_network("203.0.113.9", slash64),
            client_network("203.0.113.10", slash64)
        );
    }

    #[test]
    fn a_value_that_is_no_address_counts_as_itself() {
        assert_eq!(
            client_network(" batch-job ", Ipv6Prefix::DEFAULT),
            "batch-job"
        );
    }

    #[test]
    fn prefix_lengths_from_1_to_128_are_accepted_and_others_refused() {
        assert_eq!(prefix("64"), Ipv6Prefix::DEFAULT);
        assert_eq!(prefix("/56").to_string(), "56");
        assert_eq!(prefix("128").to_string(), "128");
        assert_eq!(prefix("1").to_string(), "1");
        for bad in ["0", "129", "-1", "64.5", "", "wide"] {
            let error = bad.parse::<Ipv6Prefix>().unwrap_err();
            assert!(error.contains("1 to 128"), "{bad:?}: {error}");
        }
    }
}
