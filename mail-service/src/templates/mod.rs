//! The mail templates and how a queued mail becomes a MIME message.
//!
//! Built in: `templates/<language>/<kind>.{subject,txt,html}` for English, Swedish and Finnish,
//! compiled into the binary. `MAIL_TEMPLATES_DIR` overrides any of them by the same path. Every
//! template is rendered once at start with sample values under strict undefined behaviour, so a
//! broken one (or a directory that is missing, or a file in it that would replace nothing) stops
//! the service there, naming the file, instead of failing sends or going unnoticed.
//!
//! - `builtin.rs`: the built-in templates and their names;
//! - `overrides.rs`: checking the files of `MAIL_TEMPLATES_DIR`;
//! - `load.rs`: [`Templates::load`], with every template checked at start;
//! - `values.rs`: what each kind's templates may use;
//! - `compose.rs`: [`Templates::compose`], a queued mail as a MIME message;
//! - `language.rs`: which built-in language a mail's locale (a tag or an `Accept-Language`
//!   list) asks for;
//! - `words.rs`: durations and times in the reader's language;
//! - `error.rs`: what can go wrong, at start and at compose time.

mod builtin;
mod compose;
mod error;
mod language;
mod load;
mod overrides;
#[cfg(test)]
mod tests;
mod values;
mod words;

use minijinja::Environment;

pub use self::error::TemplateError;

/// The templates, compiled once and shared by all workers.
#[derive(Debug)]
pub struct Templates {
    env: Environment<'static>,
}
