//! A limit as an operator writes it: `N/duration` (`5/1h`, `100/15m`) or `off`, and the GCRA
//! parameters both stores derive from it.

use std::{fmt, str::FromStr, time::Duration};

/// A limit: at most `count` events per `period`, in bursts of up to `count`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rate {
    /// Events allowed per period, and the largest burst.
    pub count: u32,
    /// The period over which `count` events are allowed.
    pub period: Duration,
}

/// A limit setting: a [`Rate`], or `None` for `off`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateSetting(pub Option<Rate>);

impl FromStr for RateSetting {
    type Err = String;

    /// `5/1h`, `100/15m`, or `off`; the error says what to write instead.
    fn from_str(value: &str) -> Result<Self, Self::Err> {
        let value = value.trim();
        if value.eq_ignore_ascii_case("off") {
            return Ok(Self(None));
        }
        let (count, period) = value
            .split_once('/')
            .ok_or("must be N/duration (e.g. 5/1h, 100/15m) or off")?;
        let count: u32 = count
            .trim()
            .parse()
            .ok()
            .filter(|count| *count > 0)
            .ok_or("the count before / must be a whole number above 0")?;
        let period = passreset_service_runtime::parse_duration(period).map_err(|reason| {
            format!("the period after / must be a duration such as 1h or 15m ({reason})")
        })?;
        // GCRA lets one event in every period/count: below a millisecond it cannot be kept.
        if period < Duration::from_millis(u64::from(count)) {
            return Err("the period must be at least one millisecond per counted event".to_owned());
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

/// GCRA's two numbers for a [`Rate`], in milliseconds: one event per `interval`, and a
/// `tolerance` of `period - interval` so that a fresh subject may spend `count` at once.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Gcra {
    /// How far each allowed event pushes the theoretical arrival time.
    pub interval: i64,
    /// How far ahead of now the theoretical arrival time may run before events are refused.
    pub tolerance: i64,
}

impl Rate {
    pub(crate) fn gcra(self) -> Gcra {
        let period = i64::try_from(self.period.as_millis()).unwrap_or(i64::MAX);
        let interval = (period / i64::from(self.count)).max(1);
        Gcra {
            interval,
            tolerance: period - interval,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rate(value: &str) -> Rate {
        value.parse::<RateSetting>().unwrap().0.unwrap()
    }

    #[test]
    fn settings_parse_as_count_per_duration_or_off() {
        assert_eq!(
            rate("5/1h"),
            Rate {
                count: 5,
                period: Duration::from_secs(3600)
            }
        );
        assert_eq!(rate(" 100 / 15m ").period, Duration::from_secs(900));
        assert_eq!(rate("3/600ms").period, Duration::from_millis(600));
        assert_eq!("off".parse::<RateSetting>().unwrap(), RateSetting(None));
        assert_eq!("OFF".parse::<RateSetting>().unwrap(), RateSetting(None));
    }

    #[test]
    fn a_setting_prints_as_it_parses() {
        for setting in ["5/1h", "100/15m", "off"] {
            assert_eq!(setting.parse::<RateSetting>().unwrap().to_string(), setting);
        }
    }

    #[test]
    fn bad_settings_say_what_is_wrong() {
        let cases = [
            ("", "N/duration"),
            ("5", "N/duration"),
            ("lots", "N/duration"),
            ("0/1h", "count"),
            ("-1/1h", "count"),
            ("x/1h", "count"),
            ("5/", "period"),
            ("5/soon", "period"),
            ("5/0s", "period"),
            ("1000/1ms", "millisecond"),
        ];
        for (bad, says) in cases {
            let error = bad.parse::<RateSetting>().unwrap_err();
            assert!(error.contains(says), "{bad:?}: {error}");
        }
    }

    #[test]
    fn the_tolerance_allows_a_burst_of_count() {
        assert_eq!(
            rate("5/1h").gcra(),
            Gcra {
                interval: 720_000,
                tolerance: 4 * 720_000
            }
        );
        assert_eq!(
            rate("1/1s").gcra(),
            Gcra {
                interval: 1000,
                tolerance: 0
            }
        );
    }
}
