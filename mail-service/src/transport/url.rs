//! `MAIL_TRANSPORT`: the URL that says where mail leaves the service, parsed and checked,
//! shown without its password.

use std::{fmt, path::PathBuf, str::FromStr};

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
    fn the_password_is_never_displayed() {
        let url = parse("smtp://mailer:hunter2@smtp.example.com:587");
        for shown in [url.to_string(), format!("{url:?}")] {
            assert!(!shown.contains("hunter2"), "{shown}");
            assert!(shown.contains("mailer:***@smtp.example.com:587"), "{shown}");
        }
    }
}
