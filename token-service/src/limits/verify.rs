//! The limits of `VerifyPassword`, apart from the reset flows' budgets so that logins and
//! resets never spend each other's: per address (known or not, so the answers cannot tell the
//! two apart) against guessing one account's password from many IPs, and per client IP
//! against one IP trying a password on many accounts.

use std::sync::Arc;

use super::{
    Ipv6Prefix, LimitStore, Rate, RateSetting, Refusal, address_key, store::LimitName,
    take_per_ip_then_address,
};
use crate::{Error, accounts::NormalizedEmail};

/// The two limits of `VerifyPassword`, as configured.
#[derive(Clone, Debug)]
pub(crate) struct VerifyLimits {
    store: Arc<dyn LimitStore>,
    /// Verifications per address (`None`: off).
    per_address: Option<Rate>,
    /// Verifications per client IP (`None`: off).
    per_ip: Option<Rate>,
    /// How much of an IPv6 address the per-IP limit counts as one client.
    ipv6_prefix: Ipv6Prefix,
}

impl VerifyLimits {
    pub(crate) fn new(
        store: Arc<dyn LimitStore>,
        per_address: RateSetting,
        per_ip: RateSetting,
        ipv6_prefix: Ipv6Prefix,
    ) -> Self {
        Self {
            store,
            per_address: per_address.0,
            per_ip: per_ip.0,
            ipv6_prefix,
        }
    }

    /// Counts one verification of `typed_email` from `client_ip`, before anything is hashed:
    /// per IP first, so an IP over its budget spends none of its victims', then per address.
    /// An address that does not parse counts as typed (lower-cased, trimmed): it has no account,
    /// but guessing at it still costs a hash. An empty IP is not limited per IP.
    pub(crate) async fn admit(
        &self,
        typed_email: &str,
        client_ip: &str,
    ) -> Result<Result<(), Refusal>, Error> {
        let address = match NormalizedEmail::parse(typed_email) {
            Ok(email) => address_key(&email),
            Err(_) => typed_email.trim().to_lowercase(),
        };
        take_per_ip_then_address(
            &*self.store,
            (
                LimitName::VerifyPerIp,
                self.per_ip,
                client_ip,
                self.ipv6_prefix,
            ),
            (LimitName::VerifyPerAddress, self.per_address, &address),
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::{super::memory::MemoryLimitStore, *};

    fn limits(per_address: &str, per_ip: &str) -> VerifyLimits {
        VerifyLimits::new(
            Arc::new(MemoryLimitStore::default()),
            per_address.parse().unwrap(),
            per_ip.parse().unwrap(),
            Ipv6Prefix::DEFAULT,
        )
    }

    async fn verify(limits: &VerifyLimits, address: &str, ip: &str) -> Option<LimitName> {
        limits
            .admit(address, ip)
            .await
            .unwrap()
            .err()
            .map(|refusal| refusal.limit)
    }

    #[tokio::test]
    async fn an_address_is_limited_across_ips_and_spellings() {
        let limits = limits("2/15m", "off");
        assert_eq!(
            verify(&limits, "ada@example.com", "203.0.113.1").await,
            None
        );
        assert_eq!(
            verify(&limits, "Ada@EXAMPLE.com ", "203.0.113.2").await,
            None
        );
        assert_eq!(
            verify(&limits, "ada@example.com", "203.0.113.3").await,
            Some(LimitName::VerifyPerAddress)
        );
        assert_eq!(
            verify(&limits, "bob@example.com", "203.0.113.3").await,
            None
        );
    }

    #[tokio::test]
    async fn an_ip_is_limited_across_addresses_and_spends_no_address_budget_once_refused() {
        let limits = limits("1/15m", "2/15m");
        let ip = "2001:db8:1:2::1";
        assert_eq!(verify(&limits, "a@example.com", ip).await, None);
        assert_eq!(
            verify(&limits, "b@example.com", "2001:db8:1:2::9").await,
            None
        );
        assert_eq!(
            verify(&limits, "c@example.com", ip).await,
            Some(LimitName::VerifyPerIp)
        );
        // c's budget was not touched by the refusal above.
        assert_eq!(verify(&limits, "c@example.com", "192.0.2.1").await, None);
    }

    #[tokio::test]
    async fn a_malformed_address_is_limited_as_typed_and_no_ip_is_no_ip_limit() {
        let limits = limits("1/15m", "1/15m");
        assert_eq!(verify(&limits, "not an address", "").await, None);
        assert_eq!(
            verify(&limits, " NOT AN ADDRESS", "").await,
            Some(LimitName::VerifyPerAddress)
        );
        assert_eq!(verify(&limits, "other junk", "").await, None);
    }

    #[tokio::test]
    async fn the_verify_budgets_are_apart_from_the_reset_ones() {
        let store: Arc<dyn LimitStore> = Arc::new(MemoryLimitStore::default());
        let one = || "1/15m".parse::<RateSetting>().unwrap();
        let verify_limits =
            VerifyLimits::new(Arc::clone(&store), one(), one(), Ipv6Prefix::DEFAULT);
        let resets = super::super::Limits::new(store, one(), one(), one(), Ipv6Prefix::DEFAULT);
        let email = NormalizedEmail::parse("ada@example.com").unwrap();
        assert!(
            resets
                .admit_reset_request(&email, "192.0.2.7")
                .await
                .unwrap()
                .is_ok()
        );
        assert!(
            verify_limits
                .admit("ada@example.com", "192.0.2.7")
                .await
                .unwrap()
                .is_ok()
        );
    }
}
