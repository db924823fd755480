//! `REDIS_URL` as a value that never shows its password.

/// `REDIS_URL` as a setting: it may hold a password, so it formats (`Debug` and `Display`) as
/// `redis://user:***@host:port`; only [`RedisUrl::expose`] gives the URL itself, to connect.
/// For a cluster it is a comma-separated list of seed nodes, each shown redacted.
#[derive(Clone, PartialEq, Eq)]
pub struct RedisUrl(String);

impl RedisUrl {
    /// The URL with its password, for the Redis client only.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The seed nodes of a cluster: the comma-separated parts, trimmed, empty ones skipped.
    pub fn seeds(&self) -> impl Iterator<Item = &str> {
        self.0
            .split(',')
            .map(str::trim)
            .filter(|seed| !seed.is_empty())
    }
}

impl From<&str> for RedisUrl {
    fn from(url: &str) -> Self {
        Self(url.to_owned())
    }
}

impl std::str::FromStr for RedisUrl {
    type Err = std::convert::Infallible;

    /// Any text: whether it is a usable Redis URL is checked when connecting.
    fn from_str(url: &str) -> Result<Self, Self::Err> {
        Ok(Self::from(url))
    }
}

impl std::fmt::Display for RedisUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&redact_url(&self.0))
    }
}

impl std::fmt::Debug for RedisUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RedisUrl({self})")
    }
}

/// Query parameters that carry a password in redis-rs URLs (`redis+unix:///sock?pass=...`).
const PASSWORD_PARAMS: [&str; 2] = ["pass", "password"];

/// `url` without its password (`redis://user:***@host:port`), for messages. A comma-separated
/// list (cluster seeds) is redacted part by part: parsed whole, a second seed's password could
/// hide in what the parser takes for a path.
pub fn redact_url(url: &str) -> String {
    url.split(',')
        .map(|part| redact_one(part.trim()))
        .collect::<Vec<_>>()
        .join(",")
}

fn redact_one(url: &str) -> String {
    let Ok(mut parsed) = url::Url::parse(url) else {
        // Unparsable, so no telling where a password would be: show none of it.
        return "(unparsable url)".to_owned();
    };
    if parsed.password().is_some() {
        let _ = parsed.set_password(Some("***"));
    }
    if parsed
        .query_pairs()
        .any(|(name, _)| PASSWORD_PARAMS.contains(&name.as_ref()))
    {
        let pairs: Vec<(String, String)> = parsed
            .query_pairs()
            .map(|(name, value)| {
                let value = if PASSWORD_PARAMS.contains(&name.as_ref()) {
                    "***".to_owned()
                } else {
                    value.into_owned()
                };
                (name.into_owned(), value)
            })
            .collect();
        parsed.query_pairs_mut().clear().extend_pairs(pairs);
    }
    parsed.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_redis_password_is_never_shown() {
        let shown = redact_url("redis://user:hunter2@redis.internal:6379/0");
        assert_eq!(shown, "redis://user:***@redis.internal:6379/0");
        let unix = redact_url("redis+unix:///run/redis.sock?db=1&pass=hunter2");
        assert!(!unix.contains("hunter2"), "{unix}");
        assert!(unix.contains("db=1"), "{unix}");
    }

    #[test]
    fn no_seed_of_a_cluster_shows_its_password() {
        let shown = redact_url("rediss://app:first@10.0.0.1:6379,rediss://app:second@10.0.0.2");
        assert!(!shown.contains("first"), "{shown}");
        assert!(!shown.contains("second"), "{shown}");
        assert!(shown.contains("rediss://app:***@10.0.0.2"), "{shown}");
        // A seed list without ports once parsed as one URL whose "path" held the second seed.
        let shown = redact_url("redis://u:first@a,redis://u:second@b");
        assert!(
            !shown.contains("first") && !shown.contains("second"),
            "{shown}"
        );
    }

    #[test]
    fn a_redis_url_setting_formats_without_its_password() {
        let url: RedisUrl = "rediss://app:hunter2@redis.internal:6380".parse().unwrap();
        for shown in [format!("{url}"), format!("{url:?}")] {
            assert!(!shown.contains("hunter2"), "{shown}");
            assert!(
                shown.contains("rediss://app:***@redis.internal:6380"),
                "{shown}"
            );
        }
        assert_eq!(url.expose(), "rediss://app:hunter2@redis.internal:6380");
    }

    #[test]
    fn seeds_are_the_trimmed_parts_of_the_list() {
        let url = RedisUrl::from("redis://a:1, redis://b:2,,");
        assert_eq!(
            url.seeds().collect::<Vec<_>>(),
            ["redis://a:1", "redis://b:2"]
        );
    }
}
