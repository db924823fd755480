//! Where mail leaves the service: SMTP (pooled, plain / STARTTLS / TLS, optional AUTH) or an
//! outbox directory of `.eml` files, and how a failed send is classified for retrying.

use std::{fmt, path::PathBuf, str::FromStr, sync::Arc, time::Duration};

use lettre::{
    AsyncFileTransport, AsyncTransport as _, Message, Tokio1Executor,
    transport::smtp::{authentication::Credentials, client::TlsParameters},
};

use crate::{
    smtp_pool::{Security, Settings, SmtpPool},
    smtp_tls::ImplicitTls,
};

/// How long connecting or one SMTP transaction may take before the attempt counts as a
/// transient failure.
const SMTP_TIMEOUT: Duration = Duration::from_secs(20);

/// `MAIL_TRANSPORT`, parsed and checked. `Debug` and `Display` never show the SMTP password.
#[derive(Clone, PartialEq, Eq)]
pub enum TransportUrl {
    /// An SMTP relay.
    Smtp {
        /// Host name or address of the relay.
        host: String,
        /// Its port.
        port: u16,
        /// How the connection is secured.
        tls: TlsMode,
        /// AUTH user name and password, when the URL has them.
        credentials: Option<(String, String)>,
    },
    /// An outbox directory: each mail becomes one `.eml` file.
    File(PathBuf),
}

/// How an SMTP connection is secured.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TlsMode {
    /// Plain text: only for a relay on the same host or network (and tests).
    None,
    /// Upgrade with STARTTLS; refuse to send if the server does not offer it.
    StartTls,
    /// TLS from the first byte (SMTPS, usually port 465).
    Tls,
}

impl FromStr for TransportUrl {
    type Err = String;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        let url = url::Url::parse(value).map_err(|error| format!("not a url: {error}"))?;
        match url.scheme() {
            "file" => {
                // `file://./outbox` is relative: the "host" is `.`; `file:///var/mail` absolute.
                let path = match url.host_str() {
                    Some(host) if !host.is_empty() => format!("{host}{}", url.path()),
                    _ => url.path().to_owned(),
                };
                if path.is_empty() || path == "/" {
                    return Err("file:// needs a directory, e.g. file://./outbox".to_owned());
                }
                Ok(Self::File(PathBuf::from(path)))
            }
            "smtp" => {
                let host = url
                    .host_str()
                    .filter(|host| !host.is_empty())
                    .ok_or("smtp:// needs a host")?
                    .to_owned();
                let mut tls = None;
                for (name, value) in url.query_pairs() {
                    match (&*name, &*value) {
                        ("tls", "none") => tls = Some(TlsMode::None),
                        ("tls", "starttls") => tls = Some(TlsMode::StartTls),
                        ("tls", "tls") => tls = Some(TlsMode::Tls),
                        ("tls", _) => return Err("tls must be none, starttls or tls".to_owned()),
                        _ => return Err(format!("unknown parameter {name} (only tls)")),
                    }
                }
                let tls = tls.unwrap_or(TlsMode::StartTls);
                let port = url.port().unwrap_or(match tls {
                    TlsMode::None => 25,
                    TlsMode::StartTls => 587,
                    TlsMode::Tls => 465,
                });
                let credentials = match (url.username(), url.password()) {
                    ("", None) => None,
                    (user, password) => Some((
                        percent_decode(user)?,
                        percent_decode(password.unwrap_or_default())?,
                    )),
                };
                Ok(Self::Smtp {
                    host,
                    port,
                    tls,
                    credentials,
                })
            }
            other => Err(format!(
                "unsupported scheme {other}: use smtp://host:port?tls=none|starttls|tls or file://DIR"
            )),
        }
    }
}

fn percent_decode(value: &str) -> Result<String, String> {
    let mut bytes = Vec::with_capacity(value.len());
    let mut rest = value.as_bytes();
    while let Some((&byte, tail)) = rest.split_first() {
        if byte == b'%' && tail.len() >= 2 {
            let hex = std::str::from_utf8(&tail[..2]).map_err(|_| "bad escape in url")?;
            bytes.push(u8::from_str_radix(hex, 16).map_err(|_| "bad escape in url")?);
            rest = &tail[2..];
        } else {
            bytes.push(byte);
            rest = tail;
        }
    }
    String::from_utf8(bytes).map_err(|_| "credentials must be utf-8".to_owned())
}

impl fmt::Display for TransportUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::File(path) => write!(f, "file://{}", path.display()),
            Self::Smtp {
                host,
                port,
                tls,
                credentials,
            } => {
                let tls = match tls {
                    TlsMode::None => "none",
                    TlsMode::StartTls => "starttls",
                    TlsMode::Tls => "tls",
                };
                let user = match credentials {
                    Some((user, _)) => format!("{user}:***@"),
                    None => String::new(),
                };
                write!(f, "smtp://{user}{host}:{port}?tls={tls}")
            }
        }
    }
}

impl fmt::Debug for TransportUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TransportUrl({self})")
    }
}

/// Why a send failed, as far as retrying goes. The text holds no recipient or content.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// Worth trying again later: connection refused, timeout, SMTP 4xx.
    #[error("{0}")]
    Transient(String),
    /// Will never succeed: SMTP 5xx, a refused recipient.
    #[error("{0}")]
    Permanent(String),
}

/// Why the transport could not be set up. Names the setting to fix.
#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    /// The outbox directory cannot be created.
    #[error("MAIL_TRANSPORT: cannot create the outbox {path}: {reason}")]
    Outbox {
        /// The directory.
        path: PathBuf,
        /// Why not.
        reason: std::io::Error,
    },
    /// The relay's TLS settings are unusable.
    #[error("MAIL_TRANSPORT: {0}")]
    Tls(lettre::transport::smtp::Error),
    /// The relay's name cannot be used for TLS.
    #[error("MAIL_TRANSPORT: tls: {0}")]
    ImplicitTls(String),
}

/// A ready transport, shared by all workers (the SMTP one pools its connections).
#[derive(Clone)]
pub enum Transport {
    /// Pooled SMTP, with `TCP_NODELAY` (see `smtp_pool`).
    Smtp(Arc<SmtpPool>),
    /// The outbox directory.
    File(AsyncFileTransport<Tokio1Executor>),
}

impl fmt::Debug for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Smtp(_) => "Transport::Smtp",
            Self::File(_) => "Transport::File",
        })
    }
}

impl Transport {
    /// Builds the transport `url` describes; creates the outbox directory if needed. Connects
    /// lazily: an SMTP server that is down now only delays delivery.
    pub async fn new(url: &TransportUrl, pool_size: u32) -> Result<Self, TransportError> {
        match url {
            TransportUrl::File(path) => {
                tokio::fs::create_dir_all(path)
                    .await
                    .map_err(|reason| TransportError::Outbox {
                        path: path.clone(),
                        reason,
                    })?;
                Ok(Self::File(AsyncFileTransport::new(path)))
            }
            TransportUrl::Smtp {
                host,
                port,
                tls,
                credentials,
            } => {
                let security = match tls {
                    TlsMode::None => Security::None,
                    TlsMode::StartTls => Security::StartTls(
                        TlsParameters::new(host.clone()).map_err(TransportError::Tls)?,
                    ),
                    TlsMode::Tls => Security::Tls(Arc::new(
                        ImplicitTls::new(host).map_err(TransportError::ImplicitTls)?,
                    )),
                };
                Ok(Self::Smtp(Arc::new(SmtpPool::new(Settings {
                    host: host.clone(),
                    port: *port,
                    security,
                    credentials: credentials
                        .as_ref()
                        .map(|(user, password)| Credentials::new(user.clone(), password.clone())),
                    timeout: SMTP_TIMEOUT,
                    max_idle: pool_size as usize,
                }))))
            }
        }
    }

    /// Hands `message` to the relay (or writes it to the outbox).
    pub async fn send(&self, message: Message) -> Result<(), SendError> {
        match self {
            Self::Smtp(pool) => pool.send(message.envelope(), &message.formatted()).await,
            Self::File(file) => file
                .send(message)
                .await
                .map(drop)
                .map_err(|error| SendError::Transient(format!("outbox: {error}"))),
        }
    }
}

/// SMTP 5xx is permanent; everything else (4xx, refused connections, timeouts, TLS hiccups)
/// may pass, so it is retried.
pub(crate) fn classify_smtp(error: lettre::transport::smtp::Error) -> SendError {
    let reason = smtp_reason(&error);
    if error.is_permanent() {
        SendError::Permanent(reason)
    } else {
        SendError::Transient(reason)
    }
}

/// What a failed SMTP send is stored and logged as: the reply code and the enhanced status
/// code, e.g. `smtp: 550 5.1.1`, or the kind of failure when no reply came. Never the server's
/// text, which often quotes the recipient (`550 5.1.1 <ada@example.com>: user unknown`).
fn smtp_reason(error: &lettre::transport::smtp::Error) -> String {
    use std::error::Error as _;
    let Some(code) = error.status() else {
        let kind = if error.is_timeout() {
            "timeout"
        } else if error.is_tls() {
            "tls failed"
        } else if error.is_response() {
            "unreadable reply"
        } else if error.is_client() {
            "client error"
        } else {
            "connection failed"
        };
        return format!("smtp: {kind}");
    };
    let text = error.source().map(ToString::to_string).unwrap_or_default();
    match enhanced_status(&text) {
        Some(enhanced) => format!("smtp: {code} {enhanced}"),
        None => format!("smtp: {code}"),
    }
}

/// The enhanced status code (RFC 3463 `class.subject.detail`, e.g. `5.1.1`) that opens a
/// reply's text, if it has one.
fn enhanced_status(text: &str) -> Option<&str> {
    let first = text.split_whitespace().next()?;
    let parts: Vec<&str> = first.split('.').collect();
    let well_formed = matches!(parts.as_slice(), [class, subject, detail]
    if matches!(*class, "2" | "4" | "5")
        && [subject, detail].iter().all(|part| {
            (1..=3).contains(&part.len()) && part.bytes().all(|b| b.is_ascii_digit())
        }));
    well_formed.then_some(first)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(value: &str) -> TransportUrl {
        value.parse().unwrap()
    }

    #[test]
    fn smtp_urls_name_host_port_tls_and_credentials() {
        assert_eq!(
            parse("smtp://mailer:p%40ss@smtp.example.com:2525?tls=tls"),
            TransportUrl::Smtp {
                host: "smtp.example.com".to_owned(),
                port: 2525,
                tls: TlsMode::Tls,
                credentials: Some(("mailer".to_owned(), "p@ss".to_owned())),
            }
        );
        assert_eq!(
            parse("smtp://127.0.0.1:1025?tls=none"),
            TransportUrl::Smtp {
                host: "127.0.0.1".to_owned(),
                port: 1025,
                tls: TlsMode::None,
                credentials: None,
            }
        );
    }

    #[test]
    fn smtp_defaults_to_starttls_on_the_submission_port() {
        let TransportUrl::Smtp { port, tls, .. } = parse("smtp://smtp.example.com") else {
            panic!("not smtp");
        };
        assert_eq!((port, tls), (587, TlsMode::StartTls));
    }

    #[test]
    fn file_urls_may_be_relative_or_absolute() {
        assert_eq!(
            parse("file://./outbox"),
            TransportUrl::File("./outbox".into())
        );
        assert_eq!(
            parse("file:///var/mail"),
            TransportUrl::File("/var/mail".into())
        );
    }

    #[test]
    fn unusable_urls_are_refused_with_a_reason() {
        for value in [
            "ftp://example.com",
            "smtp://",
            "smtp://host?tls=maybe",
            "smtp://host?pool=9",
            "no url",
        ] {
            assert!(value.parse::<TransportUrl>().is_err(), "{value}");
        }
    }

    #[test]
    fn only_an_enhanced_status_code_is_taken_from_a_replys_text() {
        for (text, expected) in [
            ("5.1.1 <ada@example.com>: no such user", Some("5.1.1")),
            ("4.7.1 greylisted, try later", Some("4.7.1")),
            ("5.7.509 Access denied", Some("5.7.509")),
            ("<ada@example.com>: no such user", None),
            ("recipient refused", None),
            ("5.1 half a code", None),
            ("6.1.1 no such class", None),
            ("5.1.1.1 too long", None),
            ("5.a.1 not digits", None),
            ("", None),
        ] {
            assert_eq!(enhanced_status(text), expected, "{text:?}");
        }
    }

    #[test]
    fn the_password_is_never_displayed() {
        let url = parse("smtp://mailer:hunter2@smtp.example.com:587");
        for shown in [url.to_string(), format!("{url:?}")] {
            assert!(!shown.contains("hunter2"), "{shown}");
            assert!(shown.contains("mailer:***@smtp.example.com:587"), "{shown}");
        }
    }
}
