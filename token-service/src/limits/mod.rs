//! Rate limits, shared by every replica through the store: GCRA (the generic cell rate
//! algorithm), one atomic step per decision.
//!
//! - [`Rate`]: a limit as configured, `N/duration` or `off`;
//! - `store.rs`: the contract ([`LimitStore`]); `redis.rs` and `memory.rs` keep it;
//! - [`Limits`]: the three limits of the reset flows, keyed on digests so no address or IP
//!   address is ever a key.

#[cfg(test)]
mod contract_tests;
pub(crate) mod memory;
pub(crate) mod redis;
mod store;

use std::{fmt, str::FromStr, sync::Arc, time::Duration};

use sha2::{Digest as _, Sha256};

pub(crate) use self::store::{Decision, LimitStore, Mode};
use crate::{Error, accounts::NormalizedEmail, clock::UnixMillis};

/// A limit: at most `count` events per `period`, in bursts of up to `count`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rate {
    /// Events allowed per period.
    pub count: u32,
    /// The period.
    pub period: Duration,
}

/// A limit setting: a [`Rate`] or `off`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateSetting(pub Option<Rate>);

impl FromStr for RateSetting {
    type Err = String;

    /// `5/1h`, `100/15m`, or `off`.
    fn from_str(value: &str) -> Result<Self, Self::Err> {
        let value = value.trim();
        if value.eq_ignore_ascii_case("off") {
            return Ok(Self(None));
        }
        let (count, period) = value
            .split_once('/')
            .ok_or("must be N/duration (e.g. 5/1h) or off")?;
        let count: u32 = count
            .trim()
            .parse()
            .ok()
            .filter(|count| *count > 0)
            .ok_or("the count must be a whole number above 0")?;
        let period = passreset_telemetry::parse_duration(period)?;
        if period < Duration::from_millis(u64::from(count)) {
            return Err("the period is too short for the count".to_owned());
        }
        Ok(Self(Some(Rate { count, period })))
    }
}

impl fmt::Display for RateSetting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            None => f.write_str("off"),
            Some(rate) => write!(
                f,
                "{}/{}",
                rate.count,
                humantime::format_duration(rate.period)
            ),
        }
    }
}

/// Which limit refused a call, for audit lines and metrics.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum LimitName {
    PerAddress,
    PerIp,
    FailuresPerIp,
}

impl LimitName {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::PerAddress => "per_address",
            Self::PerIp => "per_ip",
            Self::FailuresPerIp => "failures_per_ip",
        }
    }
}

/// The limits of the reset flows.
#[derive(Clone, Debug)]
pub(crate) struct Limits {
    store: Arc<dyn LimitStore>,
    per_address: Option<Rate>,
    per_ip: Option<Rate>,
    failures_per_ip: Option<Rate>,
}

/// A refusal: which limit, and when to try again.
#[derive(Debug)]
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

    /// Counts a reset request from `client_ip` for `email` (whether or not it has an
    /// account): per IP first, then per address. An empty IP (a direct gRPC caller that gave
    /// none) is not limited per IP.
    pub(crate) async fn admit_reset_request(
        &self,
        email: &NormalizedEmail,
        client_ip: &str,
    ) -> Result<Result<(), Refusal>, Error> {
        if !client_ip.is_empty()
            && let Some(refusal) = self
                .decide(LimitName::PerIp, self.per_ip, client_ip, Mode::Take)
                .await?
        {
            return Ok(Err(refusal));
        }
        // Lower-cased whole: spellings of one mailbox that differ only in case share a budget.
        let address = email.as_str().to_lowercase();
        match self
            .decide(
                LimitName::PerAddress,
                self.per_address,
                &address,
                Mode::Take,
            )
            .await?
        {
            Some(refusal) => Ok(Err(refusal)),
            None => Ok(Ok(())),
        }
    }

    /// Whether `client_ip` may still present a token: refused once its failures are used up.
    pub(crate) async fn admit_token_attempt(
        &self,
        client_ip: &str,
    ) -> Result<Result<(), Refusal>, Error> {
        if client_ip.is_empty() {
            return Ok(Ok(()));
        }
        match self
            .decide(
                LimitName::FailuresPerIp,
                self.failures_per_ip,
                client_ip,
                Mode::Peek,
            )
            .await?
        {
            Some(refusal) => Ok(Err(refusal)),
            None => Ok(Ok(())),
        }
    }

    /// Counts a failed token attempt (unknown, expired or spent) against `client_ip`.
    pub(crate) async fn record_token_failure(&self, client_ip: &str) -> Result<(), Error> {
        if !client_ip.is_empty() {
            self.decide(
                LimitName::FailuresPerIp,
                self.failures_per_ip,
                client_ip,
                Mode::Take,
            )
            .await?;
        }
        Ok(())
    }

    async fn decide(
        &self,
        name: LimitName,
        rate: Option<Rate>,
        subject: &str,
        mode: Mode,
    ) -> Result<Option<Refusal>, Error> {
        let Some(rate) = rate else {
            return Ok(None);
        };
        let key = format!("{}:{}", name.as_str(), hex::encode(Sha256::digest(subject)));
        match self
            .store
            .acquire(&key, rate, UnixMillis::now(), mode)
            .await?
        {
            Decision::Allowed => Ok(None),
            Decision::Limited { retry_after } => Ok(Some(Refusal {
                limit: name,
                retry_after,
            })),
        }
    }
}

/// The GCRA arithmetic both stores share, in milliseconds: one event every `interval`, with
/// bursts up to `count` (a tolerance of `period - interval`).
pub(crate) fn gcra_parameters(rate: Rate) -> (i64, i64) {
    let period = i64::try_from(rate.period.as_millis()).unwrap_or(i64::MAX);
    let interval = (period / i64::from(rate.count)).max(1);
    (interval, period - interval)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_parse_as_count_per_duration_or_off() {
        assert_eq!(
            "5/1h".parse::<RateSetting>().unwrap(),
            RateSetting(Some(Rate {
                count: 5,
                period: Duration::from_secs(3600)
            }))
        );
        assert_eq!(
            " 100 / 15m "
                .parse::<RateSetting>()
                .unwrap()
                .0
                .unwrap()
                .period,
            Duration::from_secs(900)
        );
        assert_eq!("OFF".parse::<RateSetting>().unwrap(), RateSetting(None));
        assert_eq!("5/1h".parse::<RateSetting>().unwrap().to_string(), "5/1h");
    }

    #[test]
    fn bad_settings_say_what_is_wrong() {
        for bad in [
            "", "5", "0/1h", "-1/1h", "x/1h", "5/", "5/soon", "5/0s", "1000/1ms",
        ] {
            assert!(bad.parse::<RateSetting>().is_err(), "{bad}");
        }
    }

    #[test]
    fn the_tolerance_allows_a_burst_of_count() {
        let (interval, tolerance) = gcra_parameters(Rate {
            count: 5,
            period: Duration::from_secs(3600),
        });
        assert_eq!(interval, 720_000);
        assert_eq!(tolerance, 4 * 720_000);
    }
}
