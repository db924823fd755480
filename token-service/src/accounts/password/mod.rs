//! Passwords: their NFKC form ([`normalize`]), the generator for `generate = true`
//! (`generator`, over the OS random source in `random`), argon2id hashes (`argon2id`, OWASP
//! parameters) and the [`HashPool`] that runs them on hash threads of their own
//! (`hash_threads`) below the request threads' priority, bounded so a burst cannot hold 19 MiB
//! per waiting caller.
//!
//! Passwords are NFKC-normalised before they are judged (`policy`), hashed or verified, so the
//! same password typed on another keyboard (composed or decomposed accents, full-width digits)
//! still matches.

mod argon2id;
mod generator;
mod hash_pool;
mod hash_threads;
mod random;

use unicode_normalization::UnicodeNormalization as _;

pub(crate) use argon2id::HashedPassword;
pub(crate) use generator::generate;
pub(crate) use hash_pool::{HashLimits, HashMetrics, HashPool};

/// The NFKC form every check, hash and verification works on.
pub(crate) fn normalize(password: &str) -> String {
    password.nfkc().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_hashed_in_nfkc_form() {
        // Eleven characters after normalisation: "ﬁ" (one ligature) becomes "fi" (two).
        assert_eq!(normalize("ﬁ"), "fi");
    }
}
