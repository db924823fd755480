//! The gateway on its own: how it behaves when its upstreams are down or hung, and what it
//! refuses before calling them.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a failed step must fail the test loudly"
)]

mod helpers;
mod upstreams;
