//! The mail service from outside, over real gRPC, against a real Redis and a real SMTP server
//! on loopback whose behaviour each test controls: nothing accepted is lost, nothing is sent
//! twice, and what can never be delivered ends on the dead-letter stream.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a failed step must fail the test loudly"
)]

mod delivery;
mod helpers;
mod process;
