//! What the templates of each kind may use, in the reader's language.

use minijinja::{Value, context};

use super::words::{duration_in_words, time_in_words};
use crate::mail::{Content, QueuedMail};

/// What the templates of `mail`'s kind may use.
pub(super) fn values_for(mail: &QueuedMail, language: &str) -> Value {
    match &mail.content {
        Content::PasswordReset {
            link,
            expires_at_unix,
            ttl_seconds,
            ..
        } => context! {
            to => &mail.to,
            link => link.expose(),
            link_html => Value::from_safe_string(escape_html(link.expose())),
            expires_in => duration_in_words(*ttl_seconds, language),
            expires_at => time_in_words(*expires_at_unix, language),
        },
        Content::PasswordChanged { changed_at_unix } => context! {
            to => &mail.to,
            changed_at => time_in_words(*changed_at_unix, language),
        },
        Content::UnknownAccount => context! { to => &mail.to },
    }
}

/// Escapes what HTML needs escaped and no more, so a link stays readable in the HTML source
/// (the template engine's own escaping also turns every `/` into `&#x2f;`).
fn escape_html(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            c => escaped.push(c),
        }
    }
    escaped
}
