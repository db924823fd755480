//! What a token looks like and what is stored instead of it.
//!
//! A token is `prt_` + 43 base64url characters (256 bits from the OS CSPRNG): the prefix lets
//! secret scanners recognise a leaked one. Only its digest (SHA-256, or HMAC-SHA256 with
//! `TOKEN_SECRET`) is ever stored, as lowercase hex.

use std::fmt;

use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use hmac::{Hmac, Mac as _};
use secrecy::{ExposeSecret as _, SecretString};
use sha2::{Digest as _, Sha256};

use crate::Error;

/// What every token starts with.
pub(crate) const TOKEN_PREFIX: &str = "prt_";
/// Random bytes per token.
const TOKEN_BYTES: usize = 32;
/// `prt_` + 43 characters: the only length a token has.
pub(crate) const TOKEN_LENGTH: usize = 47;

/// A reset token in plaintext. Its `Debug` never shows it.
#[derive(Clone)]
pub(crate) struct Token(SecretString);

impl Token {
    /// A fresh token from the OS random source.
    pub(crate) fn generate() -> Result<Self, Error> {
        let mut bytes = [0u8; TOKEN_BYTES];
        getrandom::fill(&mut bytes)
            .map_err(|error| Error::Internal(format!("os random source: {error}")))?;
        Ok(Self(SecretString::from(format!(
            "{TOKEN_PREFIX}{}",
            URL_SAFE_NO_PAD.encode(bytes)
        ))))
    }

    /// Reads a token as presented by a user: anything but the exact shape of one is `None`,
    /// so a malformed value never reaches Redis.
    pub(crate) fn parse(presented: &str) -> Option<Self> {
        if presented.len() != TOKEN_LENGTH {
            return None;
        }
        let body = presented.strip_prefix(TOKEN_PREFIX)?;
        // The engine refuses non-canonical trailing bits, so each token has one spelling.
        let decoded = URL_SAFE_NO_PAD.decode(body).ok()?;
        (decoded.len() == TOKEN_BYTES).then(|| Self(SecretString::from(presented)))
    }

    /// The plaintext, for the one place it leaves the service: the IssueToken answer.
    pub(crate) fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token([redacted])")
    }
}

/// The stored stand-in of a token: 64 lowercase hex characters.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct Digest(String);

impl Digest {
    /// The hex text, as it appears in Redis keys.
    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }

    /// Reads a digest back from storage (a set member), `None` if it is not one.
    pub(crate) fn from_stored(hex_text: &str) -> Option<Self> {
        (hex_text.len() == 64 && hex_text.bytes().all(|b| b.is_ascii_hexdigit()))
            .then(|| Self(hex_text.to_ascii_lowercase()))
    }
}

/// Turns tokens into digests, keyed when `TOKEN_SECRET` is set.
#[derive(Clone)]
pub(crate) struct TokenHasher {
    /// The HMAC key; `None` means plain SHA-256.
    secret: Option<SecretString>,
}

impl TokenHasher {
    /// A hasher for the configured secret (or none).
    pub(crate) fn new(secret: Option<SecretString>) -> Self {
        Self { secret }
    }

    /// The digest stored for `token`.
    pub(crate) fn digest(&self, token: &Token) -> Digest {
        let input = token.expose().as_bytes();
        let bytes: [u8; 32] = match &self.secret {
            Some(secret) => {
                // HMAC accepts keys of any length: this cannot fail.
                let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.expose_secret().as_bytes())
                else {
                    unreachable!("hmac takes keys of any length")
                };
                mac.update(input);
                mac.finalize().into_bytes().into()
            }
            None => Sha256::digest(input).into(),
        };
        Digest(hex::encode(bytes))
    }
}

impl fmt::Debug for TokenHasher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = if self.secret.is_some() {
            "hmac-sha256"
        } else {
            "sha256"
        };
        f.debug_struct("TokenHasher").field("kind", &kind).finish()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn a_token_is_the_prefix_and_43_base64url_characters() {
        let token = Token::generate().unwrap();
        let text = token.expose();
        assert_eq!(text.len(), TOKEN_LENGTH);
        assert!(text.starts_with("prt_"));
        assert!(
            text[4..]
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        );
        assert!(Token::parse(text).is_some(), "a fresh token parses");
    }

    #[test]
    fn generated_tokens_do_not_repeat() {
        let tokens: HashSet<String> = (0..1000)
            .map(|_| Token::generate().unwrap().expose().to_owned())
            .collect();
        assert_eq!(tokens.len(), 1000);
    }

    #[test]
    fn anything_but_the_exact_shape_of_a_token_is_refused() {
        let good = Token::generate().unwrap().expose().to_owned();
        let malformed = [
            String::new(),
            "nonsense".to_owned(),
            "prt_".to_owned(),
            good[..46].to_owned(),
            format!("{good}A"),
            format!("xyz_{}", &good[4..]),
            format!("PRT_{}", &good[4..]),
            format!("prt_{}+", &good[4..46]),
            format!("prt_{}=", &good[4..46]),
            format!(" {}", &good[1..]),
            format!("prt_{}\n", &good[4..46]),
            format!("prt_{}é", &good[4..45]),
            // 43 characters whose last one carries non-zero padding bits.
            format!("prt_{}B", "A".repeat(42)),
        ];
        for presented in malformed {
            assert!(Token::parse(&presented).is_none(), "accepted {presented:?}");
        }
        assert!(Token::parse(&format!("prt_{}", "A".repeat(43))).is_some());
    }

    /// `prt_` followed by 43 `A`: a well-formed token with a known digest.
    fn all_a_token() -> Token {
        Token::parse(&format!("prt_{}", "A".repeat(43))).unwrap()
    }

    #[test]
    fn the_digest_is_sha256_hex_without_a_secret() {
        // Computed independently: sha256("prt_" + 43 × "A").
        assert_eq!(
            TokenHasher::new(None).digest(&all_a_token()).as_str(),
            "7a86f3d749dd7f5dd8075b89c5c95b68fb7bf223ebe9832f67e1a4a8c74adc47"
        );
    }

    #[test]
    fn the_digest_is_hmac_sha256_with_a_secret() {
        // Computed independently: hmac-sha256(key "Jefe", "prt_" + 43 × "A").
        let keyed = TokenHasher::new(Some(SecretString::from("Jefe"))).digest(&all_a_token());
        assert_eq!(
            keyed.as_str(),
            "17918236aac86dfff05550c1d5b7b9c455d6c0b37934e70d5dc9ebfb4287a719"
        );
    }

    #[test]
    fn debug_output_never_shows_a_token() {
        let token = Token::generate().unwrap();
        assert!(!format!("{token:?}").contains(token.expose()));
        let hasher = TokenHasher::new(Some(SecretString::from("k3y-value")));
        assert!(!format!("{hasher:?}").contains("k3y-value"));
    }
}
