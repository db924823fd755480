//! `MailService` over gRPC: checks each request, turns it into a queued mail, and answers
//! status questions. Errors become `tonic::Status` in `error.rs` only.

use std::sync::Arc;

use passreset_proto::mail::v1::{
    EnqueueRequest, EnqueueResponse, GetStatusRequest, MessageStatus, enqueue_request::Kind,
    mail_service_server::MailService, message_status,
};
use tonic::{Request, Response, Status};

use crate::{
    Error,
    mail::{Content, MessageId, QueuedMail, Secret},
    metrics::MailMetrics,
    queue::{MailState, NewMail, QueueStore, suppressed_status, unix_millis},
};

/// The longest idempotency key accepted (it is hashed, so only to bound the work).
const MAX_IDEMPOTENCY_KEY: usize = 256;
/// The longest token accepted (ours are 47 characters).
const MAX_TOKEN: usize = 256;
/// The longest link accepted.
const MAX_LINK: usize = 2048;
/// The longest locale accepted: room for an `Accept-Language` list of several languages.
const MAX_LOCALE: usize = 256;

/// The gRPC face of the queue.
#[derive(Debug, Clone)]
pub(crate) struct MailApi {
    queue: Arc<dyn QueueStore>,
    metrics: MailMetrics,
    /// Whether `unknown_account` notices are sent (else suppressed: counted, nothing stored).
    unknown_account_notices: bool,
    /// Mails waiting at which `Enqueue` answers RESOURCE_EXHAUSTED.
    queue_max: u64,
}

impl MailApi {
    pub(crate) fn new(
        queue: Arc<dyn QueueStore>,
        metrics: MailMetrics,
        unknown_account_notices: bool,
        queue_max: u64,
    ) -> Self {
        Self {
            queue,
            metrics,
            queue_max,
            unknown_account_notices,
        }
    }
}

#[tonic::async_trait]
impl MailService for MailApi {
    #[tracing::instrument(name = "MailService.Enqueue", skip_all, fields(kind, message_id))]
    async fn enqueue(
        &self,
        request: Request<EnqueueRequest>,
    ) -> Result<Response<EnqueueResponse>, Status> {
        let mut new = new_mail(request.into_inner(), self.unknown_account_notices)?;
        new.mail.traceparent = passreset_telemetry::propagation::current_traceparent();
        new.max_depth = self.queue_max;
        let span = tracing::Span::current();
        span.record("kind", new.mail.content.kind());
        let suppressed = new.suppressed;
        let id = self.queue.enqueue(new).await.map_err(Error::from)?;
        span.record("message_id", id.as_str());
        if suppressed {
            self.metrics.suppressed.inc();
            tracing::info!("mail suppressed by policy");
        } else {
            self.metrics.queued.inc();
            tracing::info!("mail queued");
        }
        Ok(Response::new(EnqueueResponse {
            message_id: id.to_string(),
        }))
    }

    #[tracing::instrument(name = "MailService.GetStatus", skip_all)]
    async fn get_status(
        &self,
        request: Request<GetStatusRequest>,
    ) -> Result<Response<MessageStatus>, Status> {
        let id = MessageId::parse(&request.into_inner().message_id).ok_or(Error::NotFound)?;
        let status = match id.suppressed_at_ms() {
            Some(at_ms) => suppressed_status(at_ms, unix_millis()),
            None => self.queue.status(&id).await.map_err(Error::from)?,
        }
        .ok_or(Error::NotFound)?;
        let state = match status.state {
            MailState::Queued => message_status::State::Queued,
            MailState::Sending => message_status::State::Sending,
            MailState::Retrying => message_status::State::Retrying,
            MailState::Sent => message_status::State::Sent,
            MailState::Dead => message_status::State::Dead,
            MailState::Suppressed => message_status::State::Suppressed,
        };
        let seconds = |ms: u64| i64::try_from(ms / 1000).unwrap_or(i64::MAX);
        Ok(Response::new(MessageStatus {
            message_id: id.to_string(),
            state: state.into(),
            attempts: status.attempts,
            next_attempt_at_unix: status.next_attempt_at_ms.map_or(0, seconds),
            last_error: status.last_error,
            updated_at_unix: seconds(status.updated_at_ms),
        }))
    }
}

/// Checks a request and turns it into a mail for the queue.
fn new_mail(request: EnqueueRequest, unknown_account_notices: bool) -> Result<NewMail, Error> {
    let to = recipient(&request.to)?;
    let content = match request.kind {
        Some(Kind::PasswordReset(reset)) => {
            if reset.link.is_empty()
                || reset.link.len() > MAX_LINK
                || reset.link.chars().any(char::is_control)
            {
                return Err(Error::InvalidArgument(
                    "password_reset.link is not a usable link",
                ));
            }
            Content::PasswordReset {
                link: Secret::new(reset.link),
                token: match reset.token {
                    token if token.is_empty() => None,
                    token if token.len() > MAX_TOKEN || token.chars().any(char::is_control) => {
                        return Err(Error::InvalidArgument(
                            "password_reset.token is not a usable token",
                        ));
                    }
                    token => Some(Secret::new(token)),
                },
                expires_at_unix: reset.expires_at_unix,
                ttl_seconds: reset.ttl_seconds,
            }
        }
        Some(Kind::PasswordChanged(changed)) => Content::PasswordChanged {
            changed_at_unix: changed.changed_at_unix,
        },
        Some(Kind::UnknownAccount(_)) => Content::UnknownAccount,
        None => return Err(Error::InvalidArgument("kind is required")),
    };
    let idempotency_key = match request.idempotency_key {
        key if key.is_empty() => None,
        key if key.len() > MAX_IDEMPOTENCY_KEY => {
            return Err(Error::InvalidArgument("idempotency_key is too long"));
        }
        key => Some(key),
    };
    let locale = locale(request.locale)?;
    let suppressed = matches!(content, Content::UnknownAccount) && !unknown_account_notices;
    Ok(NewMail {
        mail: QueuedMail {
            id: if suppressed {
                MessageId::suppressed(unix_millis())
            } else {
                MessageId::new()
            },
            traceparent: String::new(),
            to,
            locale,
            content,
        },
        idempotency_key,
        suppressed,
        max_depth: 0,
    })
}

/// The locale as given (a BCP 47 tag or an `Accept-Language` list; the templates pick the
/// language), if it holds only what those can: it is stored with the mail.
pub(crate) fn locale(locale: String) -> Result<String, Error> {
    let usable = locale.len() <= MAX_LOCALE
        && locale
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_,;=.* ".contains(c));
    if usable {
        Ok(locale.trim().to_owned())
    } else {
        Err(Error::InvalidArgument(
            "locale is not a language tag or an accept-language list",
        ))
    }
}

/// The recipient, if it is one address and nothing that could smuggle a header.
pub(crate) fn recipient(to: &str) -> Result<String, Error> {
    let invalid = Error::InvalidArgument("to is not an email address");
    if to.chars().any(char::is_control) {
        return Err(invalid);
    }
    let address: lettre::Address = to.parse().map_err(|_| invalid)?;
    Ok(address.to_string())
}

#[cfg(test)]
mod tests {
    use passreset_proto::mail::v1::{PasswordReset, UnknownAccount};

    use super::*;

    fn reset_request(to: &str) -> EnqueueRequest {
        EnqueueRequest {
            to: to.to_owned(),
            locale: "en".to_owned(),
            idempotency_key: String::new(),
            kind: Some(Kind::PasswordReset(PasswordReset {
                link: "https://reset.example/?token=t".to_owned(),
                expires_at_unix: 1,
                ttl_seconds: 1800,
                token: "t".to_owned(),
            })),
        }
    }

    #[test]
    fn a_header_injection_in_the_recipient_is_refused() {
        for to in [
            "ada@example.com\r\nBcc: eve@example.com",
            "ada@example.com\n",
            "ada@exa\0mple.com",
            "",
            "not an address",
            "ada@example.com, eve@example.com",
        ] {
            assert!(
                matches!(
                    new_mail(reset_request(to), false),
                    Err(Error::InvalidArgument(_))
                ),
                "{to:?}"
            );
        }
    }

    #[test]
    fn a_request_without_a_kind_or_link_is_refused() {
        let mut request = reset_request("ada@example.com");
        request.kind = None;
        assert!(new_mail(request, false).is_err());
        let mut request = reset_request("ada@example.com");
        request.kind = Some(Kind::PasswordReset(PasswordReset::default()));
        assert!(new_mail(request, false).is_err());
    }

    #[test]
    fn a_locale_may_be_a_tag_or_an_accept_language_list_but_nothing_else() {
        for locale in [
            "",
            "sv",
            "fi-FI",
            "en_GB",
            "sv-SE,sv;q=0.9,en;q=0.8",
            "de, *;q=0.1",
        ] {
            let mut request = reset_request("ada@example.com");
            request.locale = locale.to_owned();
            assert_eq!(
                new_mail(request, false).unwrap().mail.locale,
                locale,
                "{locale:?}"
            );
        }
        for locale in [
            "sv\r\nBcc: eve@example.com",
            "{{ link }}",
            "sv/../../x",
            &"a".repeat(257),
        ] {
            let mut request = reset_request("ada@example.com");
            request.locale = locale.to_owned();
            assert!(
                matches!(new_mail(request, false), Err(Error::InvalidArgument(_))),
                "{locale:?}"
            );
        }
    }

    #[test]
    fn unknown_account_notices_are_suppressed_unless_enabled() {
        let mut request = reset_request("ada@example.com");
        request.kind = Some(Kind::UnknownAccount(UnknownAccount {}));
        let suppressed = new_mail(request.clone(), false).unwrap();
        assert!(suppressed.suppressed);
        assert!(suppressed.mail.id.suppressed_at_ms().is_some());
        let sent = new_mail(request, true).unwrap();
        assert!(!sent.suppressed);
        assert!(sent.mail.id.suppressed_at_ms().is_none());
        assert!(
            !new_mail(reset_request("ada@example.com"), false)
                .unwrap()
                .suppressed
        );
    }
}
