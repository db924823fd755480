//! The users file: accounts with argon2id password hashes, and the idempotency keys applied.
//! Every change is written to a temporary file and renamed over the old one, so a crash never
//! leaves half a file.

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use argon2::{
    Argon2, PasswordHash, PasswordHasher as _, PasswordVerifier as _, password_hash::SaltString,
};
use serde::{Deserialize, Serialize};

/// How long an applied idempotency key is remembered (the contract asks for at least a day).
const KEY_MEMORY: Duration = Duration::from_secs(2 * 24 * 60 * 60);

/// What can go wrong with the file.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// It cannot be read or written.
    #[error("{path}: {reason}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: std::io::Error,
    },
    /// It is not a users file.
    #[error("{path}: not a users file: {reason}")]
    Format {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: serde_json::Error,
    },
    /// Hashing failed.
    #[error("argon2: {0}")]
    Hash(String),
}

/// One account.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct User {
    /// Stable id.
    pub id: String,
    /// Address, matched case-insensitively.
    pub email: String,
    /// Preferred locale, may be empty.
    #[serde(default)]
    pub locale: String,
    /// argon2id PHC string.
    pub password_hash: String,
}

/// The whole file.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct UsersFile {
    /// The accounts.
    #[serde(default)]
    pub users: Vec<User>,
    /// Applied idempotency keys, with when (unix seconds).
    #[serde(default)]
    pub applied_keys: BTreeMap<String, u64>,
}

impl UsersFile {
    /// Reads `path`; a missing file is an empty directory.
    pub fn load(path: &Path) -> Result<Self, StoreError> {
        match std::fs::read(path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|reason| StoreError::Format {
                path: path.to_owned(),
                reason,
            }),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(Self::default()),
            Err(reason) => Err(StoreError::Io {
                path: path.to_owned(),
                reason,
            }),
        }
    }

    /// Writes the file atomically, forgetting keys older than [`KEY_MEMORY`].
    pub fn save(&mut self, path: &Path) -> Result<(), StoreError> {
        let oldest = now_seconds().saturating_sub(KEY_MEMORY.as_secs());
        self.applied_keys.retain(|_, applied| *applied >= oldest);
        let io = |reason| StoreError::Io {
            path: path.to_owned(),
            reason,
        };
        let text = serde_json::to_vec_pretty(self).map_err(|reason| StoreError::Format {
            path: path.to_owned(),
            reason,
        })?;
        let temporary = path.with_extension("json.tmp");
        std::fs::write(&temporary, text).map_err(io)?;
        std::fs::rename(&temporary, path).map_err(io)
    }

    /// The account with this address (trimmed, compared case-insensitively).
    pub fn by_email(&self, email: &str) -> Option<&User> {
        let email = email.trim();
        self.users
            .iter()
            .find(|user| user.email.eq_ignore_ascii_case(email))
    }

    /// Adds an account, or replaces the password of the one with this address.
    pub fn upsert(
        &mut self,
        id: &str,
        email: &str,
        locale: &str,
        password: &str,
    ) -> Result<(), StoreError> {
        let password_hash = hash(password)?;
        match self
            .users
            .iter_mut()
            .find(|user| user.email.eq_ignore_ascii_case(email.trim()))
        {
            Some(user) => user.password_hash = password_hash,
            None => self.users.push(User {
                id: id.to_owned(),
                email: email.trim().to_owned(),
                locale: locale.to_owned(),
                password_hash,
            }),
        }
        Ok(())
    }
}

/// An argon2id hash with OWASP's parameters (the argon2 crate's defaults: 19 MiB, 2 passes).
pub fn hash(password: &str) -> Result<String, StoreError> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|error| StoreError::Hash(error.to_string()))?;
    let salt =
        SaltString::encode_b64(&bytes).map_err(|error| StoreError::Hash(error.to_string()))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|error| StoreError::Hash(error.to_string()))
}

/// Whether `password` matches the PHC string `hash`.
pub fn verify(hash: &str, password: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| {
        Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
}

pub(crate) fn now_seconds() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs())
}
