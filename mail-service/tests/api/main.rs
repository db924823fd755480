//! The mail service from outside, over real gRPC, against a real Redis and a real SMTP server
//! on loopback whose behaviour each test controls: nothing accepted is lost, nothing is sent
//! twice, and what can never be delivered ends on the dead-letter stream.
//!
//! - `helpers.rs`: `spawn_app()` (the library's `Application` on free ports) and typed calls;
//! - `delivery.rs`: SMTP down, 451 retries, 550 dead letters, idempotency, backpressure;
//! - `dead_letters.rs`: the dead-letter stream keeps SMTP codes only, and about its cap;
//! - `redis_outage.rs`: Redis killed and restarted empty, or frozen and thawed;
//! - `process.rs`: the real binary, SIGKILLed and restarted; the `dead` command line;
//! - `localisation.rs`: Swedish and Finnish mail, `MAIL_TEMPLATES_DIR` overrides and errors;
//! - `suppression.rs`: suppressed unknown-account notices store nothing; enabled ones are sent.
//! - `notices.rs`: `password_changed` notices from the token service's events, once per reset.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a failed step must fail the test loudly"
)]

mod dead_letters;
mod delivery;
mod helpers;
mod localisation;
mod notices;
mod process;
mod redis_outage;
mod suppression;
