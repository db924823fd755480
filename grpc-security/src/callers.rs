//! The callers a gRPC server knows: `name:perm+perm=secret` entries, comma-separated (or one a
//! line in a file named `@/path`), where `secret` is the caller's bearer secret or
//! `sha256:<hex>` of it. Only digests are kept; a caller is known to the rest of the service by
//! its name, never by its secret.

use std::{fmt, sync::Arc};

use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq as _;

/// Shortest plain secret accepted: shorter ones can be guessed.
const MIN_SECRET_LENGTH: usize = 16;

/// A caller list that cannot be used. Messages name the entry's position and caller, never a
/// secret.
#[derive(Debug, thiserror::Error)]
pub enum CallersError {
    /// An entry is malformed.
    #[error("entry {position}: {reason}")]
    Entry {
        /// 1-based position in the list.
        position: usize,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A caller's secret is malformed.
    #[error("caller {caller}: {reason}")]
    Secret {
        /// The caller's name.
        caller: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A permission the service does not have.
    #[error("caller {caller}: unknown permission {permission} (known: {known})")]
    UnknownPermission {
        /// The caller's name.
        caller: String,
        /// The permission asked for.
        permission: String,
        /// The service's permissions, `+`-separated.
        known: String,
    },
    /// Two entries with one name.
    #[error("the caller name {0} appears twice")]
    Duplicate(String),
    /// Two callers with one secret: the secret would not tell them apart.
    #[error("callers {0} and {1} have the same secret")]
    SameSecret(String, String),
    /// `@/path` cannot be read.
    #[error("cannot read {path}: {reason}")]
    File {
        /// The file named.
        path: String,
        /// Why it cannot be read.
        reason: std::io::Error,
    },
}

/// One known caller.
#[derive(Clone, Debug)]
pub struct Caller {
    /// The caller's name, for audit lines and spans.
    pub name: Arc<str>,
    /// What it may call.
    pub permissions: Vec<String>,
    digest: [u8; 32],
}

impl Caller {
    /// Whether the caller holds any of `permissions`.
    pub fn holds_any(&self, permissions: &[&str]) -> bool {
        self.permissions
            .iter()
            .any(|held| permissions.contains(&held.as_str()))
    }
}

/// The configured callers (empty: none configured).
#[derive(Clone, Default)]
pub struct Callers(Arc<[Caller]>);

impl fmt::Debug for Callers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.0.iter().map(|caller| &caller.name))
            .finish()
    }
}

impl Callers {
    /// Parses a setting: the list itself, or `@/path` to a file holding it. Each permission
    /// must be one of `known`.
    pub fn parse(setting: &str, known: &[&str]) -> Result<Self, CallersError> {
        match setting.trim().strip_prefix('@') {
            Some(path) => {
                let list = std::fs::read_to_string(path).map_err(|reason| CallersError::File {
                    path: path.to_owned(),
                    reason,
                })?;
                Self::parse_list(&list, known)
            }
            None => Self::parse_list(setting, known),
        }
    }

    /// Parses the list: entries separated by commas or lines; blank lines and lines starting
    /// with `#` are skipped.
    pub fn parse_list(list: &str, known: &[&str]) -> Result<Self, CallersError> {
        let mut callers: Vec<Caller> = Vec::new();
        let entries = list
            .split(['\n', ','])
            .map(str::trim)
            .filter(|entry| !entry.is_empty() && !entry.starts_with('#'));
        for (index, entry) in entries.enumerate() {
            let caller = parse_entry(index + 1, entry, known)?;
            if callers.iter().any(|known| known.name == caller.name) {
                return Err(CallersError::Duplicate(caller.name.to_string()));
            }
            if let Some(twin) = callers.iter().find(|known| known.digest == caller.digest) {
                return Err(CallersError::SameSecret(
                    twin.name.to_string(),
                    caller.name.to_string(),
                ));
            }
            callers.push(caller);
        }
        Ok(Self(callers.into()))
    }

    /// The caller whose secret `presented` is, if any. Every entry is compared, each in
    /// constant time, so the answer's timing does not tell which caller (or how much of a
    /// secret) matched.
    pub fn identify(&self, presented: &[u8]) -> Option<&Caller> {
        let digest: [u8; 32] = Sha256::digest(presented).into();
        let mut found = None;
        for caller in self.0.iter() {
            if bool::from(caller.digest.ct_eq(&digest)) {
                found = Some(caller);
            }
        }
        found
    }

    /// Whether no caller is configured.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

fn parse_entry(position: usize, entry: &str, known: &[&str]) -> Result<Caller, CallersError> {
    let malformed = |reason| CallersError::Entry { position, reason };
    let (who, secret) = entry
        .split_once('=')
        .ok_or_else(|| malformed("is not name:perm+perm=secret"))?;
    let (name, permissions) = who
        .split_once(':')
        .ok_or_else(|| malformed("is not name:perm+perm=secret"))?;
    let name = name.trim();
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
    {
        return Err(malformed(
            "the name must be letters, digits, '-', '_' or '.'",
        ));
    }
    let mut held = Vec::new();
    for permission in permissions.split('+').map(str::trim) {
        if !known.contains(&permission) {
            return Err(CallersError::UnknownPermission {
                caller: name.to_owned(),
                permission: permission.chars().take(32).collect(),
                known: known.join("+"),
            });
        }
        held.push(permission.to_owned());
    }
    let bad_secret = |reason| CallersError::Secret {
        caller: name.to_owned(),
        reason,
    };
    let secret = secret.trim();
    let digest = match secret.strip_prefix("sha256:") {
        Some(hex_digest) => hex::decode(hex_digest.trim())
            .ok()
            .and_then(|bytes| <[u8; 32]>::try_from(bytes).ok())
            .ok_or_else(|| bad_secret("sha256: must be followed by 64 hex digits"))?,
        None if secret.len() < MIN_SECRET_LENGTH => {
            return Err(bad_secret("the secret must be at least 16 characters"));
        }
        None => Sha256::digest(secret.as_bytes()).into(),
    };
    Ok(Caller {
        name: name.into(),
        permissions: held,
        digest,
    })
}

/// `sha256:<hex>` of `secret`: what a caller list may hold instead of the secret itself.
pub fn digest_of(secret: &str) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(secret.as_bytes())))
}

#[cfg(test)]
mod tests {
    use super::*;

    const KNOWN: &[&str] = &["reset", "revoke", "verify", "accounts"];
    const SECRET: &str = "0123456789abcdef-secret";

    #[test]
    fn a_plain_and_a_digested_secret_both_identify_their_caller() {
        let other = "another-long-secret-value";
        let callers = Callers::parse(
            &format!("gateway:reset={SECRET}, mail:revoke={}", digest_of(other)),
            KNOWN,
        )
        .unwrap();
        let gateway = callers.identify(SECRET.as_bytes()).unwrap();
        assert_eq!(&*gateway.name, "gateway");
        assert!(gateway.holds_any(&["reset"]));
        assert!(!gateway.holds_any(&["accounts"]));
        assert_eq!(&*callers.identify(other.as_bytes()).unwrap().name, "mail");
        assert!(callers.identify(b"wrong").is_none());
        assert!(callers.identify(b"").is_none());
    }

    #[test]
    fn a_file_holds_one_entry_a_line_with_comments() {
        let dir = std::env::temp_dir().join(format!("callers-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("callers");
        std::fs::write(
            &path,
            format!("# who may call\ngateway:reset+verify={SECRET}\n\nops:accounts={SECRET}x\n"),
        )
        .unwrap();
        let callers = Callers::parse(&format!("@{}", path.display()), KNOWN).unwrap();
        assert_eq!(format!("{callers:?}"), r#"["gateway", "ops"]"#);
        assert!(Callers::parse("@/nonexistent/callers", KNOWN).is_err());
    }

    #[test]
    fn malformed_entries_are_refused_without_echoing_the_secret() {
        for list in [
            "gateway",
            "gateway=0123456789abcdef",
            ":reset=0123456789abcdef",
            "gateway:reset=short",
            "gateway:reset=sha256:abcd",
            "gateway:admin=0123456789abcdef",
            "gateway:reset=0123456789abcdef,gateway:revoke=0123456789abcdefg",
            "a:reset=0123456789abcdef,b:revoke=0123456789abcdef",
        ] {
            let error = Callers::parse(list, KNOWN).unwrap_err().to_string();
            assert!(!error.contains("0123456789abcdef"), "{error}");
        }
    }
}
