//! The settings as `--help` documents them: defaults, overrides, and refusals that name
//! their flag.

use clap::Parser as _;
use secrecy::ExposeSecret as _;

use super::*;
use crate::limits::Rate;

#[test]
fn flags_override_the_defaults() {
    let config = Config::try_parse_from([
        "token-service",
        "--redis-url",
        "redis://redis:6379",
        "--redis-key-prefix",
        "p:",
        "--grpc-addr",
        "127.0.0.1:0",
        "--token-ttl",
        "15m",
        "--token-secret",
        "k3y",
        "--password-min-length",
        "16",
        "--revoke-older-tokens",
        "false",
        "--limit-per-address",
        "3/10m",
        "--limit-per-ip",
        "off",
        "--limit-failures-per-ip",
        "20/1h",
        "--limit-verify-per-address",
        "3/1m",
        "--limit-verify-per-ip",
        "off",
        "--limit-ipv6-prefix",
        "56",
        "--log-format",
        "json",
    ])
    .unwrap();
    assert_eq!(config.redis.url.expose(), "redis://redis:6379");
    assert_eq!(config.redis_key_prefix, "p:");
    assert_eq!(config.grpc_addr.port(), 0);
    assert_eq!(config.token_ttl, Duration::from_secs(900));
    assert_eq!(
        config.token_secret.as_ref().map(|s| s.expose_secret()),
        Some("k3y")
    );
    assert_eq!(config.password_min_length, 16);
    assert!(!config.revoke_older_tokens);
    assert_eq!(config.limit_per_address, "3/10m".parse().unwrap());
    assert_eq!(config.limit_per_ip, RateSetting(None));
    assert_eq!(
        config.limit_failures_per_ip,
        RateSetting(Some(Rate {
            count: 20,
            period: Duration::from_secs(3600)
        }))
    );
    assert_eq!(config.limit_verify_per_address, "3/1m".parse().unwrap());
    assert_eq!(config.limit_verify_per_ip, RateSetting(None));
    assert_eq!(config.limit_ipv6_prefix, "56".parse().unwrap());
    assert_eq!(config.log_format, LogFormat::Json);
}

#[test]
fn the_parsed_defaults_are_the_documented_ones() {
    let parsed = Config::try_parse_from(["token-service"]).unwrap();
    let built = Config::default_for("redis://127.0.0.1:6379");
    assert_eq!(parsed.limit_per_address.to_string(), "5/1h");
    assert_eq!(parsed.limit_per_ip.to_string(), "100/15m");
    assert_eq!(parsed.limit_failures_per_ip.to_string(), "50/15m");
    assert_eq!(parsed.limit_per_address, built.limit_per_address);
    assert_eq!(parsed.limit_per_ip, built.limit_per_ip);
    assert_eq!(parsed.limit_failures_per_ip, built.limit_failures_per_ip);
    assert_eq!(parsed.limit_verify_per_address.to_string(), "10/15m");
    assert_eq!(parsed.limit_verify_per_ip.to_string(), "100/15m");
    assert_eq!(
        parsed.limit_verify_per_address,
        built.limit_verify_per_address
    );
    assert_eq!(parsed.limit_verify_per_ip, built.limit_verify_per_ip);
    assert_eq!(parsed.limit_ipv6_prefix.to_string(), "64");
    assert_eq!(parsed.limit_ipv6_prefix, built.limit_ipv6_prefix);
}

#[test]
fn a_bad_ipv6_prefix_is_refused_naming_the_flag_and_the_range() {
    for value in ["0", "129", "wide"] {
        let error = Config::try_parse_from(["token-service", "--limit-ipv6-prefix", value])
            .unwrap_err()
            .to_string();
        assert!(error.contains("--limit-ipv6-prefix"), "{error}");
        assert!(error.contains("1 to 128"), "{error}");
    }
}

#[test]
fn a_bad_limit_is_refused_naming_the_flag_and_the_form() {
    for (flag, value) in [
        ("--limit-per-address", "lots"),
        ("--limit-per-ip", "0/1h"),
        ("--limit-failures-per-ip", "5/soon"),
        ("--limit-verify-per-address", "ten"),
        ("--limit-verify-per-ip", "0/15m"),
    ] {
        let error = Config::try_parse_from(["token-service", flag, value])
            .unwrap_err()
            .to_string();
        assert!(error.contains(flag), "{error}");
        assert!(error.contains(value), "{error}");
    }
    let error = Config::try_parse_from(["token-service", "--limit-per-ip", "lots"])
        .unwrap_err()
        .to_string();
    assert!(error.contains("N/duration"), "{error}");
}

#[test]
fn hashing_bounds_are_read_and_bad_ones_name_their_flag() {
    let config = Config::try_parse_from([
        "token-service",
        "--hash-concurrency",
        "3",
        "--hash-queue",
        "0",
        "--hash-wait",
        "250ms",
    ])
    .unwrap();
    assert_eq!(config.hash_concurrency, 3);
    assert_eq!(config.hash_queue, 0);
    assert_eq!(config.hash_wait, Duration::from_millis(250));
    let defaults = Config::try_parse_from(["token-service"]).unwrap();
    assert_eq!(defaults.hash_concurrency, default_hash_concurrency());
    for (flag, value) in [
        ("--hash-concurrency", "0"),
        ("--hash-concurrency", "many"),
        ("--hash-queue", "lots"),
        ("--hash-wait", "soon"),
    ] {
        let error = Config::try_parse_from(["token-service", flag, value])
            .unwrap_err()
            .to_string();
        assert!(error.contains(flag), "{error}");
    }
}

#[test]
fn a_zero_ttl_and_a_tiny_minimum_length_are_refused() {
    assert!(Config::try_parse_from(["token-service", "--token-ttl", "0s"]).is_err());
    assert!(Config::try_parse_from(["token-service", "--password-min-length", "3"]).is_err());
}

#[test]
fn the_token_secret_never_shows_in_debug_output() {
    let mut config = Config::default_for("redis://127.0.0.1:6379");
    config.token_secret = Some(SecretString::from("hunter2-secret"));
    assert!(!format!("{config:?}").contains("hunter2-secret"));
}
