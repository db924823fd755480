//! The token service from outside: a real server on a free port, real Redis under this test's
//! own key prefix, real gRPC clients, and the real binary for the CLI.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a failed step must fail the test loudly"
)]

mod accounts;
mod cli;
mod hashing;
mod helpers;
mod interruptions;
mod limits;
mod service;
mod tokens;
mod verify_limits;
