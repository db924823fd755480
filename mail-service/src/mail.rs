//! A queued mail: who gets it and what it says, as the queue stores it until delivery.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The id of a queued mail: what `Enqueue` returns, what `GetStatus` takes, and the local part
/// of the mail's Message-ID (so every attempt carries the same Message-ID).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct MessageId(String);

impl MessageId {
    /// A fresh random id (128 bits, hex).
    pub fn new() -> Self {
        Self(uuid::Uuid::new_v4().simple().to_string())
    }

    /// The id of a mail suppressed by policy: a UUIDv8 (ours are v4 otherwise) whose first 48
    /// bits are when it was suppressed, in ms since the Unix epoch. Nothing is stored for such
    /// a mail, so the id itself is what `GetStatus` answers from.
    pub fn suppressed(at_ms: u64) -> Self {
        let mut bytes = uuid::Uuid::new_v4().into_bytes();
        bytes[..6].copy_from_slice(&at_ms.to_be_bytes()[2..]);
        Self(
            uuid::Builder::from_custom_bytes(bytes)
                .into_uuid()
                .simple()
                .to_string(),
        )
    }

    /// When the mail was suppressed, if this is the id of a suppressed mail.
    pub fn suppressed_at_ms(&self) -> Option<u64> {
        let id = uuid::Uuid::try_parse(&self.0).ok()?;
        if id.get_version() != Some(uuid::Version::Custom) {
            return None;
        }
        let mut millis = [0u8; 8];
        millis[2..].copy_from_slice(&id.as_bytes()[..6]);
        Some(u64::from_be_bytes(millis))
    }

    /// An id a caller gave us, if it has the shape of ours (so it can go into a Redis key).
    pub fn parse(value: &str) -> Option<Self> {
        let well_formed = value.len() == 32
            && value
                .bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase());
        well_formed.then(|| Self(value.to_owned()))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Default for MessageId {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Display for MessageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A mail waiting in the queue.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueuedMail {
    /// Its id.
    pub id: MessageId,
    /// The recipient's address, already checked to be one.
    pub to: String,
    /// The recipient's preferred locale (BCP 47); empty for the default.
    pub locale: String,
    /// What to say.
    pub content: Content,
    /// The W3C `traceparent` of the request that queued it, so its delivery joins that trace;
    /// empty when there was none.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub traceparent: String,
}

/// What a mail says: one variant per template.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Content {
    /// The mail with the reset link.
    PasswordReset {
        /// The link, with the token in it.
        link: Secret,
        /// The token alone, when the caller gave it: revoked if the mail dies.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        token: Option<Secret>,
        /// When the link stops working, in seconds since the Unix epoch.
        expires_at_unix: i64,
        /// The link's lifetime in seconds.
        ttl_seconds: u32,
    },
    /// The notice that the password was changed.
    PasswordChanged {
        /// When, in seconds since the Unix epoch.
        changed_at_unix: i64,
    },
    /// The notice to an address without an account.
    UnknownAccount,
}

impl Content {
    /// The template's name, also safe for logs.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::PasswordReset { .. } => "password_reset",
            Self::PasswordChanged { .. } => "password_changed",
            Self::UnknownAccount => "unknown_account",
        }
    }
}

/// A reset link or its token: a live secret, so `Debug` never shows it. It is serialised only into
/// the queue, which deletes it once the mail is delivered.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// Wraps a link.
    pub fn new(link: String) -> Self {
        Self(link)
    }

    /// The link itself, for the mail body only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_link_never_shows_in_debug_output() {
        let mail = QueuedMail {
            id: MessageId::new(),
            traceparent: String::new(),
            to: "ada@example.com".to_owned(),
            locale: String::new(),
            content: Content::PasswordReset {
                link: Secret::new("https://reset.example/?token=prt_secret".to_owned()),
                token: None,
                expires_at_unix: 0,
                ttl_seconds: 1800,
            },
        };
        assert!(!format!("{mail:?}").contains("prt_secret"));
    }

    #[test]
    fn a_mail_survives_the_round_trip_through_the_queue() {
        let mail = QueuedMail {
            id: MessageId::new(),
            traceparent: String::new(),
            to: "ada@example.com".to_owned(),
            locale: "sv".to_owned(),
            content: Content::PasswordChanged {
                changed_at_unix: 1_700_000_000,
            },
        };
        let stored = serde_json::to_string(&mail).unwrap();
        assert_eq!(serde_json::from_str::<QueuedMail>(&stored).unwrap(), mail);
    }

    #[test]
    fn a_suppressed_mails_id_says_when_it_was_suppressed_and_an_ordinary_one_does_not() {
        let id = MessageId::suppressed(1_795_442_700_123);
        assert_eq!(MessageId::parse(id.as_str()), Some(id.clone()));
        assert_eq!(id.suppressed_at_ms(), Some(1_795_442_700_123));
        assert_ne!(MessageId::suppressed(1), MessageId::suppressed(1));
        assert_eq!(MessageId::new().suppressed_at_ms(), None);
    }

    #[test]
    fn only_our_own_id_shape_is_accepted_from_callers() {
        let id = MessageId::new();
        assert_eq!(MessageId::parse(id.as_str()), Some(id));
        for bad in [
            "",
            "x",
            "../../etc",
            &"A".repeat(32),
            "0123456789abcdef0123456789abcde*",
        ] {
            assert_eq!(MessageId::parse(bad), None, "{bad}");
        }
    }
}
