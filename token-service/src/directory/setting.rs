//! `TOKEN_DIRECTORY`: which directory holds the accounts.

use std::{fmt, str::FromStr};

/// Where accounts live, as `TOKEN_DIRECTORY` says.
#[derive(Clone, PartialEq, Eq)]
pub enum DirectorySetting {
    /// `redis`: the built-in directory, in the service's Redis.
    Redis,
    /// `grpc://host:port`: the platform's `passreset.directory.v1.Directory` service, at this
    /// `http://` URL.
    Grpc(String),
}

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
        Err("must be redis or grpc://host:port".to_owned())
    }
}

impl fmt::Display for DirectorySetting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Redis => f.write_str("redis"),
            Self::Grpc(url) => write!(f, "grpc://{}", url.trim_start_matches("http://")),
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
        assert_eq!("redis".parse(), Ok(DirectorySetting::Redis));
        assert_eq!(
            "grpc://users.internal:7000".parse(),
            Ok(DirectorySetting::Grpc("http://users.internal:7000".into()))
        );
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
}
