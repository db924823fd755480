//! `MAIL_TEMPLATES_DIR`: checking that every file there that looks like a template replaces a
//! built-in one, so a misspelt name stops the start instead of going unnoticed.

use std::path::Path;

use super::{
    builtin::{BUILTIN, PARTS},
    error::TemplateError,
};

/// Checks that `dir` is a readable directory in which every file that looks like a template
/// (a `.subject`, `.txt` or `.html` at the top or one directory down) replaces a built-in one.
/// Hidden entries are skipped (a Kubernetes ConfigMap volume keeps its data in `..data`).
pub(super) fn check_overrides(dir: &Path) -> Result<(), TemplateError> {
    let unreadable = |path: &Path| {
        let path = path.to_owned();
        move |reason| TemplateError::Dir { path, reason }
    };
    let visible = |path: &Path| {
        std::fs::read_dir(path)
            .map_err(unreadable(path))?
            .map(|entry| entry.map(|entry| entry.path()).map_err(unreadable(path)))
            .filter(|entry| {
                entry.as_ref().map_or(true, |path| {
                    !path
                        .file_name()
                        .is_some_and(|name| name.to_string_lossy().starts_with('.'))
                })
            })
            .collect::<Result<Vec<_>, _>>()
    };
    let mut files = Vec::new();
    for entry in visible(dir)? {
        if entry.is_dir() {
            files.extend(visible(&entry)?);
        } else {
            files.push(entry);
        }
    }
    let known = |file: &Path| {
        file.strip_prefix(dir).is_ok_and(|name| {
            BUILTIN
                .iter()
                .flatten()
                .any(|(builtin, _)| name == Path::new(builtin))
        })
    };
    let looks_like_a_template = |file: &Path| {
        file.extension()
            .is_some_and(|extension| PARTS.iter().any(|part| extension == *part))
    };
    match files
        .into_iter()
        .find(|file| file.is_file() && looks_like_a_template(file) && !known(file))
    {
        Some(path) => Err(TemplateError::Unknown { path }),
        None => Ok(()),
    }
}
