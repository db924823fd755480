//! The passwords of `generate = true`: long, random, of every character class, and free of
//! look-alikes.

use secrecy::SecretString;

use super::random::RandomBytes;
use crate::Error;

/// Length of a generated password.
const GENERATED_LENGTH: usize = 24;

/// The characters of generated passwords, by class; look-alikes (`l`, `1`, `I`, `O`, `0`)
/// are left out so a password read aloud or copied by hand survives.
const CLASSES: [&[u8]; 4] = [
    b"abcdefghijkmnopqrstuvwxyz",
    b"ABCDEFGHJKLMNPQRSTUVWXYZ",
    b"23456789",
    b"-_.!#%+=@~^*",
];

/// A random password of [`GENERATED_LENGTH`] characters with at least one of each class: it
/// satisfies any policy this service can be configured with.
pub(crate) fn generate() -> Result<SecretString, Error> {
    let alphabet: Vec<u8> = CLASSES.concat();
    loop {
        let mut password = String::with_capacity(GENERATED_LENGTH);
        let mut random = RandomBytes::default();
        while password.len() < GENERATED_LENGTH {
            let index = random.below(alphabet.len())?;
            if let Some(&byte) = alphabet.get(index) {
                password.push(char::from(byte));
            }
        }
        let has_every_class = CLASSES
            .iter()
            .all(|class| password.bytes().any(|byte| class.contains(&byte)));
        if has_every_class {
            return Ok(SecretString::from(password));
        }
    }
}

#[cfg(test)]
mod tests {
    use secrecy::ExposeSecret as _;

    use super::*;
    use crate::accounts::{email::NormalizedEmail, policy::PasswordPolicy};

    #[test]
    fn generated_passwords_pass_the_policy_and_mix_every_class() {
        let strict = PasswordPolicy { min_length: 24 };
        let email = NormalizedEmail::parse("Ada.Lovelace@example.com").unwrap();
        for _ in 0..200 {
            let password = generate().unwrap();
            let text = password.expose_secret();
            assert_eq!(text.chars().count(), GENERATED_LENGTH);
            strict.check(&password, &email).unwrap();
            for class in CLASSES {
                assert!(
                    text.bytes().any(|b| class.contains(&b)),
                    "{class:?} missing"
                );
            }
        }
    }

    #[test]
    fn generated_passwords_do_not_repeat() {
        let first = generate().unwrap();
        let second = generate().unwrap();
        assert_ne!(first.expose_secret(), second.expose_secret());
    }
}
