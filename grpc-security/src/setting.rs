//! clap value parsers for the secrets settings: a refused value stops the binary with one line
//! naming the variable, and never echoes the value (clap's own message would).

use std::ffi::OsStr;

use clap::{builder::TypedValueParser, error::ErrorKind};

use crate::{Callers, ClientSecret};

fn refused(variable: &str, reason: impl std::fmt::Display) -> clap::Error {
    clap::Error::raw(
        ErrorKind::ValueValidation,
        format!("{variable}: {reason}\n"),
    )
}

/// Parses a caller list (`TOKEN_GRPC_CALLERS`, ...) whose permissions are `known`.
#[derive(Clone, Debug)]
pub struct CallersParser {
    /// The variable, for the error line.
    pub variable: &'static str,
    /// The service's permissions.
    pub known: &'static [&'static str],
}

impl TypedValueParser for CallersParser {
    type Value = Callers;

    fn parse_ref(
        &self,
        _cmd: &clap::Command,
        _arg: Option<&clap::Arg>,
        value: &OsStr,
    ) -> Result<Callers, clap::Error> {
        let text = value
            .to_str()
            .ok_or_else(|| refused(self.variable, "is not UTF-8"))?;
        Callers::parse(text, self.known).map_err(|error| refused(self.variable, error))
    }
}

/// Parses a client secret (`GATEWAY_TOKEN_SERVICE_SECRET`, ...).
#[derive(Clone, Debug)]
pub struct SecretParser {
    /// The variable, for the error line.
    pub variable: &'static str,
}

impl TypedValueParser for SecretParser {
    type Value = ClientSecret;

    fn parse_ref(
        &self,
        _cmd: &clap::Command,
        _arg: Option<&clap::Arg>,
        value: &OsStr,
    ) -> Result<ClientSecret, clap::Error> {
        let text = value
            .to_str()
            .ok_or_else(|| refused(self.variable, "is not UTF-8"))?;
        ClientSecret::parse(text).map_err(|error| refused(self.variable, error))
    }
}
