//! Rate limits, shared by every replica through the store: GCRA (the generic cell rate
//! algorithm), one atomic step per decision, on the store's clock (Redis `TIME`).
//!
//! - `rate.rs`: [`Rate`] and [`RateSetting`], a limit as configured (`N/duration` or `off`);
//! - `network.rs`: [`Ipv6Prefix`], and which network a client IP counts as (an IPv6 /64);
//! - `store.rs`: the contract ([`LimitStore`]), with subjects only ever as digests;
//!   `redis.rs` (two Lua scripts, `take.lua` and `refund.lua`) and `memory.rs` keep it,
//!   `contract_tests.rs` holds them to it;
//! - [`Limits`] (here): the three limits of the reset flows and the order they are asked in;
//! - `verify.rs`: [`VerifyLimits`], the two of `VerifyPassword`.

#[cfg(test)]
mod contract_tests;
pub(crate) mod memory;
mod network;
mod rate;
pub(crate) mod redis;
mod store;
mod verify;

use std::{sync::Arc, time::Duration};

pub(crate) use self::store::{LimitName, LimitStore};
pub(crate) use self::verify::VerifyLimits;
pub use self::{
    network::Ipv6Prefix,
    rate::{Rate, RateSetting},
};
use self::{
    network::client_network,
    store::{Decision, Subject},
};
use crate::{Error, accounts::NormalizedEmail};

/// The limits of the reset flows, as configured.
#[derive(Clone, Debug)]
pub(crate) struct Limits {
    store: Arc<dyn LimitStore>,
    /// IssueToken calls per address (`None`: off).
    per_address: Option<Rate>,
    /// IssueToken calls per client IP (`None`: off).
    per_ip: Option<Rate>,
    /// Failed CheckToken / Redeem attempts per client IP (`None`: off).
    failures_per_ip: Option<Rate>,
    /// How much of an IPv6 address the per-IP limits count as one client.
    ipv6_prefix: Ipv6Prefix,
}

/// A refusal: which limit, and when to try again.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Refusal {
    pub limit: LimitName,
    pub retry_after: Duration,
}

impl From<Refusal> for Error {
    fn from(refusal: Refusal) -> Self {
        Error::RateLimited {
            retry_after: refusal.retry_after,
        }
    }
}

impl Limits {
    pub(crate) fn new(
        store: Arc<dyn LimitStore>,
        per_address: RateSetting,
        per_ip: RateSetting,
        failures_per_ip: RateSetting,
        ipv6_prefix: Ipv6Prefix,
    ) -> Self {
        Self {
            store,
            per_address: per_address.0,
            per_ip: per_ip.0,
            failures_per_ip: failures_per_ip.0,
            ipv6_prefix,
        }
    }

    /// Counts a reset request from `client_ip` for `email`, whether or not an account has it
    /// (the caller asks before the directory, so the answers cannot tell the two apart): per
    /// IP first, so a flood from one IP spends its own budget and not its victims', then per
    /// address. An empty IP (a direct gRPC caller that gave none) is not limited per IP.
    pub(crate) async fn admit_reset_request(
        &self,
        email: &NormalizedEmail,
        client_ip: &str,
    ) -> Result<Result<(), Refusal>, Error> {
        take_per_ip_then_address(
            &*self.store,
            (LimitName::PerIp, self.per_ip, client_ip, self.ipv6_prefix),
            (LimitName::PerAddress, self.per_address, &address_key(email)),
        )
        .await
    }

    /// Reserves one failure of `client_ip`'s budget before its token is looked at, refusing
    /// the attempt once none is left. Checked and charged in one step, so a burst of
    /// concurrent attempts can never get past more than the budget; an attempt that turns out
    /// not to be a failure gives its unit back ([`Self::refund_token_attempt`]).
    pub(crate) async fn reserve_token_attempt(
        &self,
        client_ip: &str,
    ) -> Result<Result<(), Refusal>, Error> {
        if client_ip.is_empty() {
            return Ok(Ok(()));
        }
        let network = client_network(client_ip, self.ipv6_prefix);
        self.take(LimitName::FailuresPerIp, self.failures_per_ip, &network)
            .await
    }

    /// Gives back the unit [`Self::reserve_token_attempt`] took, for an attempt that was not
    /// a failure. Best effort: the attempt's own answer matters more than one unit of budget,
    /// so a store that cannot be reached is logged, not passed on.
    pub(crate) async fn refund_token_attempt(&self, client_ip: &str) {
        let Some(rate) = self.failures_per_ip.filter(|_| !client_ip.is_empty()) else {
            return;
        };
        let limit = LimitName::FailuresPerIp;
        let subject = Subject::of(&client_network(client_ip, self.ipv6_prefix));
        if let Err(error) = self.store.refund(limit, &subject, rate).await {
            tracing::warn!(
                limit = limit.as_str(),
                %error,
                "could not give back a reserved unit of a rate limit"
            );
        }
    }

    async fn take(
        &self,
        limit: LimitName,
        rate: Option<Rate>,
        raw_subject: &str,
    ) -> Result<Result<(), Refusal>, Error> {
        take(&*self.store, limit, rate, raw_subject).await
    }
}

/// What the per-address limits count an address as: lower-cased whole, because spellings of
/// one mailbox that differ only in the case of the local part reach the same inbox on nearly
/// every mail server, so they share a budget.
fn address_key(email: &NormalizedEmail) -> String {
    email.as_str().to_lowercase()
}

/// One event of `client_ip`'s network under the per-IP limit, then, unless that refused, one of
/// `address` under the per-address limit: per IP first, so a flood from one IP spends its own
/// budget and not its victims'. An empty IP (a direct gRPC caller that gave none) is not
/// limited per IP.
async fn take_per_ip_then_address(
    store: &dyn LimitStore,
    (ip_limit, ip_rate, client_ip, ipv6_prefix): (LimitName, Option<Rate>, &str, Ipv6Prefix),
    (address_limit, address_rate, address): (LimitName, Option<Rate>, &str),
) -> Result<Result<(), Refusal>, Error> {
    if !client_ip.is_empty() {
        let network = client_network(client_ip, ipv6_prefix);
        let decided = take(store, ip_limit, ip_rate, &network).await?;
        if decided.is_err() {
            return Ok(decided);
        }
    }
    take(store, address_limit, address_rate, address).await
}

/// One event of `raw_subject` (digested here) under `limit`, if the limit is on.
async fn take(
    store: &dyn LimitStore,
    limit: LimitName,
    rate: Option<Rate>,
    raw_subject: &str,
) -> Result<Result<(), Refusal>, Error> {
    let Some(rate) = rate else {
        return Ok(Ok(()));
    };
    let subject = Subject::of(raw_subject);
    match store.take(limit, &subject, rate).await? {
        Decision::Allowed => Ok(Ok(())),
        Decision::Limited { retry_after } => Ok(Err(Refusal { limit, retry_after })),
    }
}

#[cfg(test)]
mod tests {
    use super::{memory::MemoryLimitStore, store::ManualClock, *};

    fn limits(per_address: &str, per_ip: &str, failures_per_ip: &str) -> Limits {
        limits_on(
            MemoryLimitStore::default(),
            per_address,
            per_ip,
            failures_per_ip,
        )
    }

    fn limits_on(
        store: MemoryLimitStore,
        per_address: &str,
        per_ip: &str,
        failures_per_ip: &str,
    ) -> Limits {
        Limits::new(
            Arc::new(store),
            per_address.parse().unwrap(),
            per_ip.parse().unwrap(),
            failures_per_ip.parse().unwrap(),
            Ipv6Prefix::DEFAULT,
        )
    }

    fn email(address: &str) -> NormalizedEmail {
        NormalizedEmail::parse(address).unwrap()
    }

    async fn request(limits: &Limits, address: &str, ip: &str) -> Option<LimitName> {
        limits
            .admit_reset_request(&email(address), ip)
            .await
            .unwrap()
            .err()
            .map(|refusal| refusal.limit)
    }

    async fn attempt(limits: &Limits, ip: &str) -> Result<(), Refusal> {
        limits.reserve_token_attempt(ip).await.unwrap()
    }

    #[tokio::test]
    async fn the_ip_is_asked_first_and_a_refusal_there_spends_no_address_budget() {
        let limits = limits("2/1h", "3/1h", "off");
        let ip = "203.0.113.1";
        assert_eq!(request(&limits, "a@example.com", ip).await, None);
        assert_eq!(request(&limits, "a@example.com", ip).await, None);
        assert_eq!(
            request(&limits, "a@example.com", ip).await,
            Some(LimitName::PerAddress)
        );
        assert_eq!(
            request(&limits, "b@example.com", ip).await,
            Some(LimitName::PerIp)
        );
        // b's budget was not touched by the refusal above.
        let elsewhere = "203.0.113.2";
        assert_eq!(request(&limits, "b@example.com", elsewhere).await, None);
        assert_eq!(request(&limits, "b@example.com", elsewhere).await, None);
    }

    #[tokio::test]
    async fn spellings_of_one_address_share_a_budget() {
        let limits = limits("1/1h", "off", "off");
        assert_eq!(request(&limits, "Ada@Example.com", "").await, None);
        assert_eq!(
            request(&limits, " ada@EXAMPLE.com", "").await,
            Some(LimitName::PerAddress)
        );
    }

    #[tokio::test]
    async fn without_a_client_ip_only_the_address_is_limited() {
        let limits = limits("off", "1/1h", "1/1h");
        for n in 0..5 {
            assert_eq!(
                request(&limits, &format!("u{n}@example.com"), "").await,
                None
            );
            assert!(attempt(&limits, "").await.is_ok());
        }
    }

    #[tokio::test]
    async fn addresses_of_one_ipv6_network_share_the_per_ip_budgets() {
        let limits = limits("off", "2/1h", "1/1h");
        assert_eq!(
            request(&limits, "a@example.com", "2001:db8:1:2::1").await,
            None
        );
        assert_eq!(
            request(&limits, "b@example.com", "2001:db8:1:2::2").await,
            None
        );
        assert_eq!(
            request(&limits, "c@example.com", "2001:db8:1:2:ffff::3").await,
            Some(LimitName::PerIp)
        );
        assert_eq!(
            request(&limits, "c@example.com", "2001:db8:1:3::1").await,
            None
        );

        assert!(attempt(&limits, "2001:db8:1:2::1").await.is_ok());
        assert!(attempt(&limits, "2001:db8:1:2::9").await.is_err());
        assert!(attempt(&limits, "2001:db8:1:3::9").await.is_ok());
    }

    #[tokio::test]
    async fn a_reserved_attempt_is_a_failure_unless_refunded() {
        let clock = ManualClock::default();
        let limits = limits_on(MemoryLimitStore::with_clock(clock), "off", "off", "2/1h");
        let ip = "192.0.2.66";
        // Attempts that turn out good give their unit back: any number of them.
        for _ in 0..5 {
            assert!(attempt(&limits, ip).await.is_ok());
            limits.refund_token_attempt(ip).await;
        }
        // Two that are not refunded spend the budget, and the third is refused.
        assert!(attempt(&limits, ip).await.is_ok());
        assert!(attempt(&limits, ip).await.is_ok());
        assert_eq!(
            attempt(&limits, ip).await,
            Err(Refusal {
                limit: LimitName::FailuresPerIp,
                retry_after: Duration::from_secs(30 * 60),
            })
        );
        assert!(attempt(&limits, "192.0.2.1").await.is_ok());
    }

    #[tokio::test]
    async fn a_limit_that_is_off_never_refuses() {
        let limits = limits("off", "off", "off");
        for _ in 0..50 {
            assert_eq!(request(&limits, "a@example.com", "203.0.113.1").await, None);
            assert!(attempt(&limits, "203.0.113.1").await.is_ok());
        }
        limits.refund_token_attempt("203.0.113.1").await;
    }
}
