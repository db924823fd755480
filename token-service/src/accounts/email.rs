//! Email addresses as the directory keys them: trimmed, refused when they could smuggle a header
//! or hide a second address, domain converted to lowercase ASCII (IDNA), local part kept as
//! typed (it is case-sensitive by RFC 5321).

use std::fmt;

use email_address::{EmailAddress, Options};

use crate::Error;

/// RFC 5321's practical limit for a forward path.
const MAX_LENGTH: usize = 254;

/// An address in the one form the directory stores and looks up.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct NormalizedEmail(String);

impl NormalizedEmail {
    /// Normalises an address as a user typed it, or says why it is not one.
    pub(crate) fn parse(typed: &str) -> Result<Self, Error> {
        let trimmed = typed.trim();
        if trimmed.is_empty() {
            return Err(Error::InvalidEmail("the address is empty"));
        }
        if trimmed.chars().any(char::is_control) {
            return Err(Error::InvalidEmail(
                "the address contains control characters",
            ));
        }
        if trimmed.chars().any(char::is_whitespace) {
            return Err(Error::InvalidEmail("the address contains whitespace"));
        }
        let (local, domain) = trimmed
            .rsplit_once('@')
            .ok_or(Error::InvalidEmail("the address has no @"))?;
        if local.is_empty() || domain.is_empty() {
            return Err(Error::InvalidEmail(
                "the address needs a local part and a domain",
            ));
        }
        let domain = idna::domain_to_ascii(domain)
            .map_err(|_| Error::InvalidEmail("the domain is not a valid domain name"))?
            .to_ascii_lowercase();
        let address = format!("{local}@{domain}");
        if address.len() > MAX_LENGTH {
            return Err(Error::InvalidEmail("the address is too long"));
        }
        let options = Options::default()
            .without_display_text()
            .without_domain_literal();
        EmailAddress::parse_with_options(&address, options)
            .map_err(|_| Error::InvalidEmail("the address is not a valid addr-spec"))?;
        Ok(Self(address))
    }

    /// Rebuilds an address that was normalised before it was stored.
    pub(crate) fn from_stored(address: String) -> Self {
        Self(address)
    }

    /// The address as text.
    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }

    /// The part before the last `@`.
    pub(crate) fn local_part(&self) -> &str {
        self.0.rsplit_once('@').map_or(&self.0, |(local, _)| local)
    }
}

impl fmt::Display for NormalizedEmail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn normalised(typed: &str) -> String {
        NormalizedEmail::parse(typed).unwrap().as_str().to_owned()
    }

    #[test]
    fn surrounding_whitespace_is_trimmed() {
        assert_eq!(normalised("  ada@example.com\t"), "ada@example.com");
    }

    #[test]
    fn the_domain_is_lowercased_and_the_local_part_kept() {
        assert_eq!(
            normalised("Ada.Lovelace@EXAMPLE.Com"),
            "Ada.Lovelace@example.com"
        );
    }

    #[test]
    fn an_international_domain_becomes_ascii() {
        assert_eq!(
            normalised("user@Bücher.example"),
            "user@xn--bcher-kva.example"
        );
        assert_eq!(normalised("ü@例え.テスト"), "ü@xn--r8jz45g.xn--zckzah");
    }

    #[test]
    fn header_injection_attempts_are_refused() {
        for typed in [
            "ada@example.com\r\nBcc: eve@example.com",
            "ada@example.com\nBcc: eve@example.com",
            "ada@exa\rmple.com",
            "ada\0@example.com",
            "ada@example.com\u{7f}",
        ] {
            assert!(
                matches!(NormalizedEmail::parse(typed), Err(Error::InvalidEmail(_))),
                "accepted {typed:?}"
            );
        }
    }

    #[test]
    fn things_that_are_not_one_address_are_refused() {
        for typed in [
            "",
            "   ",
            "not an address",
            "ada.example.com",
            "@example.com",
            "ada@",
            "ada@example.com, eve@example.com",
            "Ada <ada@example.com>",
            "ada@[127.0.0.1]",
            "ada@exa mple.com",
            "ada@-example-.com",
            &format!("{}@example.com", "a".repeat(250)),
        ] {
            assert!(
                matches!(NormalizedEmail::parse(typed), Err(Error::InvalidEmail(_))),
                "accepted {typed:?}"
            );
        }
    }

    #[test]
    fn the_local_part_is_what_precedes_the_last_at() {
        let email = NormalizedEmail::parse("Ada@Example.com").unwrap();
        assert_eq!(email.local_part(), "Ada");
        assert_eq!(email.to_string(), "Ada@example.com");
    }
}
