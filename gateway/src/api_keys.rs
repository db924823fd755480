//! API keys for the Equinix Metal surface (`X-Auth-Token`), from `GATEWAY_API_KEYS`:
//! comma-separated `name=secret` or `name=sha256:<hex>` entries. Only SHA-256 digests are kept
//! in memory, compared in constant time; a key is known to the rest of the gateway by its name.

use std::{fmt, str::FromStr};

use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq as _;

/// The configured keys.
#[derive(Clone, Default)]
pub struct ApiKeys(Vec<ApiKey>);

#[derive(Clone)]
struct ApiKey {
    name: String,
    digest: [u8; 32],
}

impl fmt::Debug for ApiKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.0.iter().map(|key| &key.name))
            .finish()
    }
}

impl ApiKeys {
    /// The name of the key that `presented` is, if any. Every key is compared, each in constant
    /// time, so the answer's timing does not tell which key (or how much of one) matched.
    pub fn authenticate(&self, presented: &[u8]) -> Option<&str> {
        let digest: [u8; 32] = Sha256::digest(presented).into();
        let mut found = None;
        for key in &self.0 {
            if bool::from(key.digest.ct_eq(&digest)) {
                found = Some(key.name.as_str());
            }
        }
        found
    }

    /// Whether no key is configured (the Metal POST then refuses everyone).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl FromStr for ApiKeys {
    type Err = String;

    fn from_str(list: &str) -> Result<Self, Self::Err> {
        let mut keys: Vec<ApiKey> = Vec::new();
        for (index, entry) in list.split(',').map(str::trim).enumerate() {
            if entry.is_empty() {
                continue;
            }
            // The entry holds a secret: errors name its position and its name, never its value.
            let position = index + 1;
            let (name, secret) = entry
                .split_once('=')
                .ok_or_else(|| format!("entry {position} is not name=secret"))?;
            let name = name.trim();
            if name.is_empty()
                || !name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
            {
                return Err(format!(
                    "entry {position}: the name must be letters, digits, '-', '_' or '.'"
                ));
            }
            if keys.iter().any(|key| key.name == name) {
                return Err(format!("the key name {name} appears twice"));
            }
            let digest = match secret.strip_prefix("sha256:") {
                Some(hex_digest) => {
                    let bytes = hex::decode(hex_digest.trim()).map_err(|_| {
                        format!("key {name}: sha256: must be followed by 64 hex digits")
                    })?;
                    <[u8; 32]>::try_from(bytes).map_err(|_| {
                        format!("key {name}: sha256: must be followed by 64 hex digits")
                    })?
                }
                None if secret.len() < 16 => {
                    return Err(format!(
                        "key {name}: the secret must be at least 16 characters"
                    ));
                }
                None => Sha256::digest(secret.as_bytes()).into(),
            };
            keys.push(ApiKey {
                name: name.to_owned(),
                digest,
            });
        }
        Ok(Self(keys))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "0123456789abcdef-secret";

    #[test]
    fn a_plain_and_a_digested_key_both_authenticate_by_name() {
        let digest = hex::encode(Sha256::digest(b"another-long-secret-value"));
        let keys: ApiKeys = format!("ops={SECRET}, ci=sha256:{digest}").parse().unwrap();
        assert_eq!(keys.authenticate(SECRET.as_bytes()), Some("ops"));
        assert_eq!(keys.authenticate(b"another-long-secret-value"), Some("ci"));
        assert_eq!(keys.authenticate(b"wrong"), None);
        assert_eq!(keys.authenticate(b""), None);
    }

    #[test]
    fn malformed_entries_are_refused_without_echoing_the_secret() {
        for list in [
            "ops",
            "=0123456789abcdef",
            "ops=short",
            "ops=sha256:abcd",
            "a b=0123456789abcdef",
        ] {
            let error = ApiKeys::from_str(list).unwrap_err();
            assert!(!error.contains("0123456789abcdef"), "{error}");
        }
        let twice = format!("ops={SECRET},ops={SECRET}x");
        assert!(ApiKeys::from_str(&twice).is_err());
    }

    #[test]
    fn debug_shows_names_only() {
        let keys: ApiKeys = format!("ops={SECRET}").parse().unwrap();
        assert_eq!(format!("{keys:?}"), r#"["ops"]"#);
    }
}
