//! What can go wrong with a template: at start ([`TemplateError`]) or when a mail is composed
//! ([`ComposeError`]).

use std::path::PathBuf;

use super::language::LANGUAGES;

/// A template that cannot be used: a start-up error, never a failed send.
#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    /// `MAIL_TEMPLATES_DIR` is not a directory that can be read.
    #[error("MAIL_TEMPLATES_DIR: {path} is not a readable directory: {reason}")]
    Dir {
        /// The directory.
        path: PathBuf,
        /// Why not.
        reason: std::io::Error,
    },
    /// A file of `MAIL_TEMPLATES_DIR` looks like a template but replaces none, so it would be
    /// silently ignored (a misspelt name, or a language there is no built-in template for).
    #[error(
        "MAIL_TEMPLATES_DIR: {path} replaces no template (expected <language>/<kind>.<part> \
         with language {languages}, kind password_reset, password_changed or unknown_account, \
         part subject, txt or html)",
        languages = LANGUAGES.join(", ")
    )]
    Unknown {
        /// The file.
        path: PathBuf,
    },
    /// A file of `MAIL_TEMPLATES_DIR` cannot be read.
    #[error("MAIL_TEMPLATES_DIR: cannot read {path}: {reason}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why not.
        reason: std::io::Error,
    },
    /// A template does not compile or does not render with sample values.
    #[error("{origin}: template {name} is broken: {reason}")]
    Broken {
        /// `MAIL_TEMPLATES_DIR` with the file, or "built-in".
        origin: String,
        /// The template's path under the templates directory.
        name: String,
        /// What minijinja said.
        reason: minijinja::Error,
    },
}

/// Why a mail could not be composed. Permanent: trying again renders the same.
#[derive(Debug, thiserror::Error)]
pub enum ComposeError {
    /// A template failed at render time.
    #[error("rendering {kind}: {reason}")]
    Render {
        /// The template.
        kind: &'static str,
        /// Why.
        reason: minijinja::Error,
    },
    /// The recipient or a header is unusable.
    #[error("building the message: {0}")]
    Message(String),
}
