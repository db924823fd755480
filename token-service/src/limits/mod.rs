//! Rate limits, shared by every replica through the store: GCRA (the generic cell rate
//! algorithm), one atomic step per decision.
//!
//! - `rate.rs`: [`Rate`] and [`RateSetting`], a limit as configured (`N/duration` or `off`);
//! - `store.rs`: the contract ([`LimitStore`]), with subjects only ever as digests;
//!   `redis.rs` (one Lua script) and `memory.rs` keep it, `contract_tests.rs` holds them to it;
//! - [`Limits`] (here): the three limits of the reset flows and the order they are asked in.

#[cfg(test)]
mod contract_tests;
pub(crate) mod memory;
mod rate;
pub(crate) mod redis;
mod store;

use std::{sync::Arc, time::Duration};

pub use self::rate::{Rate, RateSetting};
use self::store::{Decision, Mode, Subject};
pub(crate) use self::store::{LimitName, LimitStore};
use crate::{Error, accounts::NormalizedEmail, clock::UnixMillis};

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
    ) -> Self {
        Self {
            store,
            per_address: per_address.0,
            per_ip: per_ip.0,
            failures_per_ip: failures_per_ip.0,
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
        now: UnixMillis,
    ) -> Result<Result<(), Refusal>, Error> {
        if !client_ip.is_empty() {
            let decided = self
                .decide(LimitName::PerIp, self.per_ip, client_ip, now, Mode::Take)
                .await?;
            if decided.is_err() {
                return Ok(decided);
            }
        }
        // Lower-cased whole: spellings of one mailbox that differ only in the case of the
        // local part reach the same inbox on nearly every mail server, so they share a budget.
        let address = email.as_str().to_lowercase();
        self.decide(
            LimitName::PerAddress,
            self.per_address,
            &address,
            now,
            Mode::Take,
        )
        .await
    }

    /// Whether `client_ip` may present a token at all: not once its failures are used up.
    /// Only peeks, so a valid token presented within the budget costs nothing.
    pub(crate) async fn admit_token_attempt(
        &self,
        client_ip: &str,
        now: UnixMillis,
    ) -> Result<Result<(), Refusal>, Error> {
        if client_ip.is_empty() {
            return Ok(Ok(()));
        }
        self.decide(
            LimitName::FailuresPerIp,
            self.failures_per_ip,
            client_ip,
            now,
            Mode::Peek,
        )
        .await
    }

    /// Counts a failed token attempt (unknown, expired or spent) against `client_ip`.
    pub(crate) async fn record_token_failure(
        &self,
        client_ip: &str,
        now: UnixMillis,
    ) -> Result<(), Error> {
        if !client_ip.is_empty() {
            // Refused or not, the attempt has failed already; there is nothing more to say.
            let _ = self
                .decide(
                    LimitName::FailuresPerIp,
                    self.failures_per_ip,
                    client_ip,
                    now,
                    Mode::Take,
                )
                .await?;
        }
        Ok(())
    }

    async fn decide(
        &self,
        limit: LimitName,
        rate: Option<Rate>,
        raw_subject: &str,
        now: UnixMillis,
        mode: Mode,
    ) -> Result<Result<(), Refusal>, Error> {
        let Some(rate) = rate else {
            return Ok(Ok(()));
        };
        let subject = Subject::of(raw_subject);
        match self.store.acquire(limit, &subject, rate, now, mode).await? {
            Decision::Allowed => Ok(Ok(())),
            Decision::Limited { retry_after } => Ok(Err(Refusal { limit, retry_after })),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{memory::MemoryLimitStore, *};

    const T0: UnixMillis = UnixMillis(1_800_000_000_000);

    fn limits(per_address: &str, per_ip: &str, failures_per_ip: &str) -> Limits {
        Limits::new(
            Arc::new(MemoryLimitStore::default()),
            per_address.parse().unwrap(),
            per_ip.parse().unwrap(),
            failures_per_ip.parse().unwrap(),
        )
    }

    fn email(address: &str) -> NormalizedEmail {
        NormalizedEmail::parse(address).unwrap()
    }

    async fn request(limits: &Limits, address: &str, ip: &str) -> Option<LimitName> {
        limits
            .admit_reset_request(&email(address), ip, T0)
            .await
            .unwrap()
            .err()
            .map(|refusal| refusal.limit)
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
            limits.record_token_failure("", T0).await.unwrap();
            assert!(limits.admit_token_attempt("", T0).await.unwrap().is_ok());
        }
    }

    #[tokio::test]
    async fn failures_are_peeked_before_and_taken_after() {
        let limits = limits("off", "off", "2/1h");
        let ip = "192.0.2.66";
        for _ in 0..5 {
            assert!(limits.admit_token_attempt(ip, T0).await.unwrap().is_ok());
        }
        limits.record_token_failure(ip, T0).await.unwrap();
        assert!(limits.admit_token_attempt(ip, T0).await.unwrap().is_ok());
        limits.record_token_failure(ip, T0).await.unwrap();
        assert_eq!(
            limits.admit_token_attempt(ip, T0).await.unwrap(),
            Err(Refusal {
                limit: LimitName::FailuresPerIp,
                retry_after: Duration::from_secs(30 * 60),
            })
        );
        assert!(
            limits
                .admit_token_attempt("192.0.2.1", T0)
                .await
                .unwrap()
                .is_ok()
        );
    }

    #[tokio::test]
    async fn a_limit_that_is_off_never_refuses() {
        let limits = limits("off", "off", "off");
        for _ in 0..50 {
            assert_eq!(request(&limits, "a@example.com", "203.0.113.1").await, None);
            limits
                .record_token_failure("203.0.113.1", T0)
                .await
                .unwrap();
        }
        assert!(
            limits
                .admit_token_attempt("203.0.113.1", T0)
                .await
                .unwrap()
                .is_ok()
        );
    }
}
