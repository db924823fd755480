//! `TOKEN_DIRECTORY`: which directory holds the accounts.

use std::{fmt, str::FromStr};

use secrecy::{ExposeSecret as _, SecretString};

/// Where accounts live, as `TOKEN_DIRECTORY` says.
#[derive(Clone)]
pub enum DirectorySetting {
    /// `redis`: the built-in directory, in the service's Redis.
    Redis,
    /// `grpc://host:port` or `grpcs://host:port`: the platform's
    /// `passreset.directory.v1.Directory` service, at this `http://` or (TLS) `https://` URL.
    Grpc(String),
    /// `postgres://...` or `mysql://...`: the platform's users table (the URL may hold a
    /// password, so it is shown without one).
    Sql(SecretString),
}

/// The schemes of the SQL directory.
const SQL_SCHEMES: &[&str] = &["postgres://", "postgresql://", "mysql://", "mariadb://"];

impl FromStr for DirectorySetting {
    type Err = String;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        let value = value.trim();
        if value == "redis" {
            return Ok(Self::Redis);
        }
        for (scheme, transport) in [("grpc://", "http"), ("grpcs://", "https")] {
            if let Some(address) = value.strip_prefix(scheme) {
                if address.is_empty() || address.contains('/') {
                    return Err(format!("{scheme} takes host:port, nothing more"));
                }
                return Ok(Self::Grpc(format!("{transport}://{address}")));
            }
        }
        if SQL_SCHEMES.iter().any(|scheme| value.starts_with(scheme)) {
            return Ok(Self::Sql(SecretString::from(value)));
        }
        Err(
            "must be redis, grpc://host:port, grpcs://host:port, postgres://... or mysql://..."
                .to_owned(),
        )
    }
}

impl DirectorySetting {
    /// Whether this is the built-in directory.
    pub fn is_built_in(&self) -> bool {
        matches!(self, Self::Redis)
    }
}

impl fmt::Display for DirectorySetting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Redis => f.write_str("redis"),
            Self::Grpc(url) => match url.strip_prefix("https://") {
                Some(address) => write!(f, "grpcs://{address}"),
                None => write!(f, "grpc://{}", url.trim_start_matches("http://")),
            },
            Self::Sql(url) => {
                let url = url.expose_secret();
                let scheme = url.split("://").next().unwrap_or_default();
                // Host and database only: the user and password stay out of every message.
                let rest = url.split("://").nth(1).unwrap_or_default();
                let host = rest.rsplit('@').next().unwrap_or_default();
                let host = host.split('?').next().unwrap_or_default();
                write!(f, "{scheme}://{host}")
            }
        }
    }
}

impl fmt::Debug for DirectorySetting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_is_read_and_junk_is_refused() {
        assert!(matches!("redis".parse(), Ok(DirectorySetting::Redis)));
        assert!(matches!(
            "grpc://users.internal:7000".parse(),
            Ok(DirectorySetting::Grpc(url)) if url == "http://users.internal:7000"
        ));
        let tls: DirectorySetting = "grpcs://users.internal:7443".parse().unwrap();
        assert!(
            matches!(&tls, DirectorySetting::Grpc(url) if url == "https://users.internal:7443")
        );
        assert_eq!(tls.to_string(), "grpcs://users.internal:7443");
        for sql in ["postgres://u:p@db/app", "mysql://db/app", "postgresql://db"] {
            assert!(matches!(sql.parse(), Ok(DirectorySetting::Sql(_))), "{sql}");
        }
        for bad in [
            "",
            "ldap://x",
            "grpc://",
            "grpc://h:1/path",
            "grpcs://",
            "Redis",
        ] {
            assert!(bad.parse::<DirectorySetting>().is_err(), "{bad}");
        }
    }

    #[test]
    fn an_sql_url_is_shown_without_its_user_and_password() {
        let setting: DirectorySetting =
            "postgres://app:hunter2@db.internal:5432/users?sslmode=require"
                .parse()
                .unwrap();
        let shown = format!("{setting} {setting:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(!shown.contains("app:"), "{shown}");
        assert!(
            shown.contains("postgres://db.internal:5432/users"),
            "{shown}"
        );
    }
}
