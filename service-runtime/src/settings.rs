//! Reading a binary's settings: a wrong value stops it with one line naming the environment
//! variable (what a container is configured with), not only the flag.

use std::time::Duration;

use clap::{
    CommandFactory, FromArgMatches,
    error::{ContextKind, ContextValue, ErrorKind},
};

/// Parses the command line and environment into `C`. `--help` and `--version` print and exit
/// 0; any other error prints one line, `<binary>: <VARIABLE>: <what is wrong>`, and exits 2.
pub fn parse_or_exit<C: CommandFactory + FromArgMatches>() -> C {
    let mut command = C::command();
    let outcome = command
        .try_get_matches_from_mut(std::env::args_os())
        .and_then(|mut matches| C::from_arg_matches_mut(&mut matches));
    match outcome {
        Ok(parsed) => parsed,
        Err(error)
            if matches!(
                error.kind(),
                ErrorKind::DisplayHelp | ErrorKind::DisplayVersion
            ) =>
        {
            error.exit()
        }
        Err(error) => {
            eprintln!("{}: {}", command.get_name(), one_line(&command, &error));
            std::process::exit(2);
        }
    }
}

/// Parses `30m`, `1h 30m`, `45s` for clap's `value_parser`.
pub fn parse_duration(value: &str) -> Result<Duration, String> {
    let duration = humantime::parse_duration(value.trim()).map_err(|error| error.to_string())?;
    if duration.is_zero() {
        return Err("must be longer than zero".to_owned());
    }
    Ok(duration)
}

/// The error in one line, naming the variable behind the argument when it has one.
fn one_line(command: &clap::Command, error: &clap::Error) -> String {
    let argument = match error.get(ContextKind::InvalidArg) {
        Some(ContextValue::String(argument)) => Some(argument.clone()),
        _ => None,
    };
    // "--limit-per-ip <LIMIT_PER_IP>" -> the argument whose long name is `limit-per-ip`.
    let long = argument.as_deref().map(|argument| {
        argument
            .trim_start_matches('-')
            .split([' ', '='])
            .next()
            .unwrap_or_default()
    });
    let setting = argument
        .as_deref()
        .zip(long)
        .map(|(argument, long)| find_env(command, long).unwrap_or_else(|| argument.to_owned()));
    // A secret (an argument whose environment value is hidden) is never echoed.
    let secret = long.is_some_and(|long| hides_its_value(command, long));
    let value = match error.get(ContextKind::InvalidValue) {
        Some(ContextValue::String(value)) if !secret => format!(" {value:?}"),
        _ => String::new(),
    };
    let reason = std::error::Error::source(error).map_or_else(
        || {
            if secret {
                // clap's own text quotes the value.
                return "not a valid value".to_owned();
            }
            error
                .to_string()
                .lines()
                .next()
                .unwrap_or_default()
                .trim_start_matches("error: ")
                .to_owned()
        },
        ToString::to_string,
    );
    match setting {
        Some(setting) => format!("{setting}: invalid value{value}: {reason}"),
        None => reason,
    }
}

/// Whether the argument with this long name hides its environment value: a secret.
fn hides_its_value(command: &clap::Command, long: &str) -> bool {
    command
        .get_arguments()
        .find(|argument| argument.get_long() == Some(long))
        .map(clap::Arg::is_hide_env_values_set)
        .unwrap_or_else(|| {
            command
                .get_subcommands()
                .any(|subcommand| hides_its_value(subcommand, long))
        })
}

/// The environment variable of the argument with this long name, in `command` or a subcommand.
fn find_env(command: &clap::Command, long: &str) -> Option<String> {
    command
        .get_arguments()
        .find(|argument| argument.get_long() == Some(long))
        .and_then(|argument| argument.get_env())
        .map(|env| env.to_string_lossy().into_owned())
        .or_else(|| {
            command
                .get_subcommands()
                .find_map(|subcommand| find_env(subcommand, long))
        })
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Debug, Parser)]
    #[command(name = "demo")]
    struct Demo {
        /// A duration.
        #[arg(long, env = "DEMO_TTL", default_value = "30m", value_parser = parse_duration)]
        ttl: std::time::Duration,
        /// A secret number.
        #[arg(long, env = "DEMO_SECRET", hide_env_values = true)]
        secret: Option<u32>,
    }

    #[test]
    fn durations_parse_in_human_units() {
        assert_eq!(parse_duration("30m"), Ok(Duration::from_secs(1800)));
        assert_eq!(parse_duration("1h 30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration(" 45s "), Ok(Duration::from_secs(45)));
    }

    #[test]
    fn zero_and_garbage_durations_are_refused() {
        assert!(parse_duration("0s").is_err());
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("").is_err());
    }

    #[test]
    fn a_bad_secret_names_the_variable_but_never_shows_the_value() {
        let mut command = Demo::command();
        let error = command
            .try_get_matches_from_mut(["demo", "--secret", "hunter2-is-my-key"])
            .unwrap_err();
        let line = one_line(&command, &error);
        assert!(line.starts_with("DEMO_SECRET: invalid value"), "{line}");
        assert!(!line.contains("hunter2"), "{line}");
    }

    #[test]
    fn a_bad_value_names_the_variable_in_one_line() {
        let mut command = Demo::command();
        let error = command
            .try_get_matches_from_mut(["demo", "--ttl", "soon"])
            .unwrap_err();
        let line = one_line(&command, &error);
        assert!(
            line.starts_with("DEMO_TTL: invalid value \"soon\": "),
            "{line}"
        );
        assert!(!line.contains('\n'), "{line}");
    }
}
