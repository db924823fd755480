//! `TOKEN_DIRECTORY`: which directory holds the accounts.

use std::{fmt, str::FromStr};

use secrecy::{ExposeSecret as _, SecretString};

/// Where accounts live, as `TOKEN_DIRECTORY` says.
#[derive(Clone)]
pub enum DirectorySetting {
    /// `redis`: the built-in directory, in the service's Redis.
    Redis,
    /// `grpc://host:port`: the platform's `passreset.directory.v1.Directory` service, at this
    /// `http://` URL.
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
        if let Some(address) = value.strip_prefix("grpc://") {
            if address.is_empty() || address.contains('/') {
                return Err("grpc:// takes host:port, nothing more".to_owned());
            }
            return Ok(Self::Grpc(format!("http://{address}")));
        }
        if value.starts_with("grpcs://") {
            return Err("grpcs:// is not supported yet: use grpc:// inside the network".to_owned());
        }
        if SQL_SCHEMES.iter().any(|scheme| value.starts_with(scheme)) {
            return Ok(Self::Sql(SecretString::from(value)));
        }
        Err("must be redis, grpc://host:port, postgres://... or mysql://...".to_owned())
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
            Self::Grpc(url) => write!(f, "grpc://{}", url.trim_start_matches("http://")),
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
        for sql in ["postgres://u:p@db/app", "mysql://db/app", "postgresql://db"] {
            assert!(matches!(sql.parse(), Ok(DirectorySetting::Sql(_))), "{sql}");
        }
        for bad in [
            "",
            "ldap://x",
            "grpc://",
            "grpc://h:1/path",
            "grpcs://h:1",
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
