//! The built-in templates, compiled into the binary, and the names they go by.

/// The parts of each template set. HTML is auto-escaped by its extension.
pub(super) const PARTS: [&str; 3] = ["subject", "txt", "html"];

/// Every built-in template, by its path under `templates/`.
macro_rules! builtin {
    ($($language:literal),*) => {
        &[$(
            builtin!(@one $language, "password_reset"),
            builtin!(@one $language, "password_changed"),
            builtin!(@one $language, "unknown_account"),
        )*]
    };
    (@one $language:literal, $kind:literal) => {
        [
            (
                concat!($language, "/", $kind, ".subject"),
                include_str!(concat!("../../templates/", $language, "/", $kind, ".subject")),
            ),
            (
                concat!($language, "/", $kind, ".txt"),
                include_str!(concat!("../../templates/", $language, "/", $kind, ".txt")),
            ),
            (
                concat!($language, "/", $kind, ".html"),
                include_str!(concat!("../../templates/", $language, "/", $kind, ".html")),
            ),
        ]
    };
}
pub(super) const BUILTIN: &[[(&str, &str); 3]] = builtin!("en", "sv", "fi");
