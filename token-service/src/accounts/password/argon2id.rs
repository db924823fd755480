//! argon2id with OWASP's parameters: [`HashedPassword`] in PHC form, and the hash and the
//! verification themselves. They block for milliseconds: run them through the `HashPool`.

use std::fmt;

use argon2::{
    Algorithm, Argon2, Params, PasswordHash, PasswordHasher as _, PasswordVerifier as _, Version,
    password_hash::SaltString,
};
use secrecy::{ExposeSecret as _, SecretString};

use super::normalize;
use crate::Error;

/// OWASP's argon2id recommendation: 19 MiB, 2 passes, 1 lane.
const ARGON2_MEMORY_KIB: u32 = 19_456;
const ARGON2_PASSES: u32 = 2;
const ARGON2_LANES: u32 = 1;

/// The hash of a generated password nobody kept, with the same parameters as real ones:
/// verified against when an address has no account, so the answer takes as long as for a
/// wrong password.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$s7CGnnL50MJep4G2kl+hTQ$QcxXKJrVZnckQEFtVLD6q13dzW+xTdoB2iJDHwYCBss";

/// An argon2id hash in PHC string form. Not a secret, but not for logs either.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct HashedPassword(String);

impl HashedPassword {
    /// Rebuilds a hash read from storage.
    pub(crate) fn from_stored(phc: String) -> Self {
        Self(phc)
    }

    /// The PHC string, for storage.
    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }

    fn dummy() -> Self {
        Self(DUMMY_HASH.to_owned())
    }
}

impl fmt::Debug for HashedPassword {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("HashedPassword([redacted])")
    }
}

fn hasher() -> Result<Argon2<'static>, Error> {
    let params = Params::new(ARGON2_MEMORY_KIB, ARGON2_PASSES, ARGON2_LANES, None)
        .map_err(|error| Error::Internal(format!("argon2 parameters: {error}")))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// Hashes `password` with a fresh salt.
pub(super) fn hash_now(password: &SecretString) -> Result<HashedPassword, Error> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt)
        .map_err(|error| Error::Internal(format!("os random source: {error}")))?;
    let salt = SaltString::encode_b64(&salt)
        .map_err(|error| Error::Internal(format!("argon2 salt: {error}")))?;
    let hash = hasher()?
        .hash_password(normalize(password.expose_secret()).as_bytes(), &salt)
        .map_err(|error| Error::Internal(format!("argon2 hash: {error}")))?;
    Ok(HashedPassword(hash.to_string()))
}

/// Whether `password` matches `hash`. With no hash (no such account) it checks against a
/// dummy one and answers `false`, taking the same time.
pub(super) fn verify_now(hash: Option<&HashedPassword>, password: &SecretString) -> bool {
    match hash {
        Some(hash) => matches(hash, password),
        None => {
            let _ = matches(&HashedPassword::dummy(), password);
            false
        }
    }
}

fn matches(hash: &HashedPassword, password: &SecretString) -> bool {
    let Ok(parsed) = PasswordHash::new(&hash.0) else {
        tracing::error!("a stored password hash does not parse");
        return false;
    };
    // The parameters come from the PHC string; the hasher only fixes the algorithm family.
    hasher().is_ok_and(|argon2| {
        argon2
            .verify_password(normalize(password.expose_secret()).as_bytes(), &parsed)
            .is_ok()
    })
}

#[cfg(test)]
mod tests {
    use unicode_normalization::UnicodeNormalization as _;

    use super::*;

    #[test]
    fn a_password_verifies_whichever_unicode_form_it_is_typed_in() {
        let composed = "crème brûlée à la carte";
        let decomposed: String = composed.nfd().collect();
        assert_ne!(composed, decomposed);
        let hash = hash_now(&SecretString::from(composed)).unwrap();
        assert!(verify_now(Some(&hash), &SecretString::from(decomposed)));
    }

    #[test]
    fn a_hash_verifies_its_password_and_no_other() {
        let hash = hash_now(&SecretString::from("correct horse battery staple")).unwrap();
        assert!(hash.as_str().starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(verify_now(
            Some(&hash),
            &SecretString::from("correct horse battery staple")
        ));
        assert!(!verify_now(
            Some(&hash),
            &SecretString::from("correct horse battery stapler")
        ));
    }

    #[test]
    fn without_an_account_nothing_verifies_not_even_the_dummy() {
        assert!(
            PasswordHash::new(DUMMY_HASH).is_ok(),
            "the dummy hash parses"
        );
        assert!(DUMMY_HASH.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(!verify_now(None, &SecretString::from("")));
        assert!(!verify_now(None, &SecretString::from("password")));
    }

    #[test]
    fn debug_output_hides_the_hash() {
        let hash = HashedPassword::from_stored(DUMMY_HASH.to_owned());
        assert!(!format!("{hash:?}").contains("argon2id"));
    }
}
