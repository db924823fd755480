//! Loading the templates: the built-in ones, each replaced by its override when there is one,
//! every one rendered with sample values so a broken one stops the start.

use std::path::Path;

use minijinja::Environment;

use super::{
    Templates,
    builtin::{BUILTIN, PARTS},
    error::TemplateError,
    language::LANGUAGES,
    overrides::check_overrides,
    values::values_for,
};
use crate::mail::{Content, MessageId, QueuedMail, Secret};

impl Templates {
    /// The built-in templates, each replaced by the file of the same path under `overrides`
    /// when there is one; every template checked with sample values.
    pub fn load(overrides: Option<&Path>) -> Result<Self, TemplateError> {
        if let Some(dir) = overrides {
            check_overrides(dir)?;
        }
        let mut env = Environment::new();
        env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
        let mut origins = Vec::new();
        for (name, source) in BUILTIN.iter().flatten() {
            let file = overrides
                .map(|dir| dir.join(name))
                .filter(|file| file.is_file());
            let (source, origin) = match &file {
                Some(path) => {
                    let text =
                        std::fs::read_to_string(path).map_err(|reason| TemplateError::Read {
                            path: path.clone(),
                            reason,
                        })?;
                    (text, format!("MAIL_TEMPLATES_DIR ({})", path.display()))
                }
                None => ((*source).to_owned(), "built-in".to_owned()),
            };
            env.add_template_owned((*name).to_owned(), source)
                .map_err(|reason| TemplateError::Broken {
                    origin: origin.clone(),
                    name: (*name).to_owned(),
                    reason,
                })?;
            origins.push(((*name).to_owned(), origin));
        }
        let templates = Self { env };
        templates.check_all(&origins)?;
        Ok(templates)
    }

    /// Renders every template with sample values, so unknown variables show up now.
    fn check_all(&self, origins: &[(String, String)]) -> Result<(), TemplateError> {
        let samples = [
            Content::PasswordReset {
                link: Secret::new("https://example.com/reset?token=sample".to_owned()),
                token: None,
                expires_at_unix: 0,
                ttl_seconds: 1800,
            },
            Content::PasswordChanged { changed_at_unix: 0 },
            Content::UnknownAccount,
        ];
        for language in LANGUAGES {
            for content in &samples {
                let mail = QueuedMail {
                    id: MessageId::new(),
                    traceparent: String::new(),
                    to: "sample@example.com".to_owned(),
                    locale: language.to_owned(),
                    content: content.clone(),
                };
                let values = values_for(&mail, language);
                for part in PARTS {
                    let name = format!("{language}/{}.{part}", content.kind());
                    let rendered = self
                        .env
                        .get_template(&name)
                        .and_then(|template| template.render(&values));
                    if let Err(reason) = rendered {
                        let origin = origins
                            .iter()
                            .find(|(known, _)| *known == name)
                            .map_or_else(|| "built-in".to_owned(), |(_, origin)| origin.clone());
                        return Err(TemplateError::Broken {
                            origin,
                            name,
                            reason,
                        });
                    }
                }
            }
        }
        Ok(())
    }
}
