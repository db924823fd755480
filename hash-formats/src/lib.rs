//! The password hash formats a platform's login code may verify (`TOKEN_DIRECTORY_HASH` of
//! passreset's SQL directory), written and verified with RustCrypto's and well-kept crates,
//! none by hand. The password is hashed as typed (no normalisation), as the platform's own
//! login hashes what its users type.
//!
//! A crate of its own so that it can be optimised in debug builds: PBKDF2's generic code is
//! instantiated here, and a million rounds of it unoptimised take seconds.

use std::{fmt, str::FromStr};

use argon2::{
    Algorithm, Argon2, Params, PasswordHash, PasswordHasher as _, PasswordVerifier as _, Version,
    password_hash::SaltString,
};
use base64::Engine as _;
use secrecy::{ExposeSecret as _, SecretString};
use subtle::ConstantTimeEq as _;

/// bcrypt's cost (`$2b$12$`): OWASP's minimum of 10, plus margin.
const BCRYPT_COST: u32 = 12;
/// Django's own default for pbkdf2_sha256 (Django 5.x).
const DJANGO_ITERATIONS: u32 = 1_000_000;
/// Django's salt alphabet and length.
const DJANGO_SALT_CHARS: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
const DJANGO_SALT_LENGTH: usize = 22;
/// Most iterations a stored Django hash may ask for before it is refused (its verification
/// would hold a hashing slot for minutes).
const MAX_DJANGO_ITERATIONS: u32 = 10_000_000;

/// The hash format the platform verifies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HashFormat {
    /// argon2id PHC string, OWASP parameters (19 MiB, 2 passes, 1 lane).
    Argon2id,
    /// bcrypt, `$2b$`, cost 12.
    Bcrypt,
    /// Django's `pbkdf2_sha256$<iterations>$<salt>$<hash>`.
    DjangoPbkdf2,
}

impl FromStr for HashFormat {
    type Err = String;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        match value.trim() {
            "argon2id" => Ok(Self::Argon2id),
            "bcrypt" => Ok(Self::Bcrypt),
            "django-pbkdf2" => Ok(Self::DjangoPbkdf2),
            _ => Err("must be argon2id, bcrypt or django-pbkdf2".to_owned()),
        }
    }
}

impl fmt::Display for HashFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Argon2id => "argon2id",
            Self::Bcrypt => "bcrypt",
            Self::DjangoPbkdf2 => "django-pbkdf2",
        })
    }
}

/// Why a hash could not be made.
#[derive(Debug, thiserror::Error)]
#[error("hashing failed: {0}")]
pub struct HashError(String);

fn random_bytes<const N: usize>() -> Result<[u8; N], HashError> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(|error| HashError(error.to_string()))?;
    Ok(bytes)
}

fn argon2id() -> Result<Argon2<'static>, HashError> {
    let params = Params::new(19_456, 2, 1, None).map_err(|error| HashError(error.to_string()))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

impl HashFormat {
    /// `password` hashed in this format, with a fresh salt. Slow by design: run it on the
    /// hashing pool.
    pub fn hash(self, password: &SecretString) -> Result<String, HashError> {
        let password = password.expose_secret().as_bytes();
        match self {
            Self::Argon2id => {
                let salt = SaltString::encode_b64(&random_bytes::<16>()?)
                    .map_err(|error| HashError(error.to_string()))?;
                argon2id()?
                    .hash_password(password, &salt)
                    .map(|hash| hash.to_string())
                    .map_err(|error| HashError(error.to_string()))
            }
            Self::Bcrypt => bcrypt::hash_with_salt(password, BCRYPT_COST, random_bytes::<16>()?)
                .map(|parts| parts.format_for_version(bcrypt::Version::TwoB))
                .map_err(|error| HashError(error.to_string())),
            Self::DjangoPbkdf2 => {
                let salt: String = random_bytes::<DJANGO_SALT_LENGTH>()?
                    .iter()
                    .map(|byte| {
                        char::from(DJANGO_SALT_CHARS[usize::from(*byte) % DJANGO_SALT_CHARS.len()])
                    })
                    .collect();
                let derived = django_derive(password, &salt, DJANGO_ITERATIONS);
                Ok(format!(
                    "pbkdf2_sha256${DJANGO_ITERATIONS}${salt}${}",
                    base64::engine::general_purpose::STANDARD.encode(derived)
                ))
            }
        }
    }
}

/// Whether `password` matches `stored`, in whichever of the three formats it is written.
/// Anything else (an MD5 from a legacy table, junk) does not match.
pub fn verify(stored: &str, password: &SecretString) -> bool {
    let password = password.expose_secret().as_bytes();
    if stored.starts_with("$argon2") {
        return PasswordHash::new(stored).is_ok_and(|parsed| {
            argon2id().is_ok_and(|argon2| argon2.verify_password(password, &parsed).is_ok())
        });
    }
    if stored.starts_with("$2") {
        return bcrypt::verify(password, stored).unwrap_or(false);
    }
    if let Some(rest) = stored.strip_prefix("pbkdf2_sha256$") {
        let mut parts = rest.splitn(3, '$');
        let (Some(iterations), Some(salt), Some(expected)) =
            (parts.next(), parts.next(), parts.next())
        else {
            return false;
        };
        let Ok(iterations) = iterations.parse::<u32>() else {
            return false;
        };
        if iterations == 0 || iterations > MAX_DJANGO_ITERATIONS {
            return false;
        }
        let Ok(expected) = base64::engine::general_purpose::STANDARD.decode(expected) else {
            return false;
        };
        let derived = django_derive(password, salt, iterations);
        return bool::from(derived.as_slice().ct_eq(&expected));
    }
    false
}

/// PBKDF2-HMAC-SHA256 with a 32-byte output, as Django's `PBKDF2PasswordHasher` computes it.
fn django_derive(password: &[u8], salt: &str, iterations: u32) -> [u8; 32] {
    pbkdf2::pbkdf2_hmac_array::<sha2::Sha256, 32>(password, salt.as_bytes(), iterations)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_format_verifies_what_it_writes_and_nothing_else() {
        let password = SecretString::from("correct horse battery staple");
        let wrong = SecretString::from("correct horse battery stapler");
        for (format, prefix) in [
            (HashFormat::Argon2id, "$argon2id$v=19$m=19456,t=2,p=1$"),
            (HashFormat::Bcrypt, "$2b$12$"),
            (HashFormat::DjangoPbkdf2, "pbkdf2_sha256$1000000$"),
        ] {
            let hash = format.hash(&password).unwrap();
            assert!(hash.starts_with(prefix), "{hash}");
            assert!(verify(&hash, &password), "{format}");
            assert!(!verify(&hash, &wrong), "{format}");
        }
        assert!(!verify("5f4dcc3b5aa765d61d8327deb882cf99", &password));
    }

    #[test]
    fn formats_are_read_by_their_names() {
        assert_eq!("argon2id".parse(), Ok(HashFormat::Argon2id));
        assert_eq!("bcrypt".parse(), Ok(HashFormat::Bcrypt));
        assert_eq!("django-pbkdf2".parse(), Ok(HashFormat::DjangoPbkdf2));
        assert!("md5".parse::<HashFormat>().is_err());
    }
}
