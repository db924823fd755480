//! How a queued mail becomes a MIME message: its templates rendered into text and HTML
//! alternatives, a subject and a stable Message-ID.

use lettre::{
    Message,
    message::{
        Body, Mailbox, MultiPart, SinglePart,
        header::{ContentTransferEncoding, ContentType},
    },
};

use super::{Templates, error::ComposeError, language::language_of, values::values_for};
use crate::mail::QueuedMail;

impl Templates {
    /// The MIME message for `mail` in its recipient's language: text and HTML alternatives, a
    /// subject, and a Message-ID made of the mail's id and the sender's domain, the same on
    /// every attempt.
    pub fn compose(&self, mail: &QueuedMail, from: &Mailbox) -> Result<Message, ComposeError> {
        let kind = mail.content.kind();
        let language = language_of(&mail.locale);
        let values = values_for(mail, language);
        let render = |part: &str| {
            self.env
                .get_template(&format!("{language}/{kind}.{part}"))
                .and_then(|template| template.render(&values))
                .map_err(|reason| ComposeError::Render { kind, reason })
        };
        let subject = render("subject")?;
        let text = render("txt")?;
        let html = render("html")?;

        let to: Mailbox = mail
            .to
            .parse()
            .map_err(|_| ComposeError::Message("the recipient is not an address".to_owned()))?;
        Message::builder()
            .from(from.clone())
            .to(to)
            .subject(subject.trim())
            .message_id(Some(format!("<{}@{}>", mail.id, from.email.domain())))
            .multipart(
                MultiPart::alternative()
                    .singlepart(
                        SinglePart::builder()
                            .header(ContentType::TEXT_PLAIN)
                            .body(readable_body(text)),
                    )
                    .singlepart(
                        SinglePart::builder()
                            .header(ContentType::TEXT_HTML)
                            .body(readable_body(html)),
                    ),
            )
            .map_err(|error| ComposeError::Message(error.to_string()))
    }
}

/// The longest line SMTP allows (RFC 5321), without its CRLF.
const MAX_LINE: usize = 998;

/// A body that stays readable in its raw form when it can: ASCII text with lines SMTP accepts
/// goes as 7bit, so the link is one unbroken line even in an `.eml` opened in an editor;
/// anything else gets the encoding lettre chooses (quoted-printable or base64).
fn readable_body(text: String) -> Body {
    let fits_7bit = text.is_ascii() && text.lines().all(|line| line.len() <= MAX_LINE);
    if !fits_7bit {
        return Body::new(text);
    }
    let crlf = text.lines().collect::<Vec<_>>().join("\r\n") + "\r\n";
    Body::dangerous_pre_encoded(crlf.into_bytes(), ContentTransferEncoding::SevenBit)
}
