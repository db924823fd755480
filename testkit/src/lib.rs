//! Real parts for the tests of every passreset crate (a dev-dependency only).
//!
//! - [`test_redis`]: a real Redis (`REDIS_URL`, else a private `redis-server` for this test
//!   process) and a fresh key prefix per call, so tests run in parallel without seeing each
//!   other's keys;
//! - [`RedisCluster`]: a 3-master, 3-replica Redis Cluster on free ports, shared by a test
//!   binary or the test's own (to fail over and kill nodes);
//! - [`CutProxy`]: a TCP proxy to Redis that a test cuts right after a given write, to
//!   make everything after that write fail as a Redis blip would;
//! - [`RedisProcess`]: a `redis-server` of the test's own, to stop and start again, or one
//!   that wants a password, an ACL user or TLS (with [`TestTls`]: a CA and certificates made
//!   in the test);
//! - [`SmtpSink`]: a real SMTP server on loopback that keeps what it receives and can be told to
//!   answer with failures;
//! - [`workspace_binary`]: the path of one of the workspace's built binaries;
//! - [`TestCa`]: a certificate authority made in the test, issuing certificates as PEM files.
//!
//! Helpers here panic on failure: a test that cannot get its parts should stop loudly.
#![expect(
    clippy::expect_used,
    reason = "test support: a missing part must fail the test"
)]

mod binaries;
mod cut_proxy;
mod redis_cluster;
mod redis_process;
mod redis_server;
mod smtp;
mod tls;

pub use binaries::workspace_binary;
pub use cut_proxy::CutProxy;
pub use redis_cluster::RedisCluster;
pub use redis_process::RedisProcess;
pub use redis_server::{TestRedis, test_redis};
pub use smtp::{ReceivedMail, SmtpSink};
pub use tls::{IssuedCert, TestCa, TestTls};

/// Runs each contract case (an `async fn(store)` in the calling module) against every
/// implementation of a store: `mod on_redis` with `redis(test_redis().await)`, `mod on_cluster`
/// with `redis(..)` on the test binary's shared [`RedisCluster`], and `mod in_memory` with
/// `memory()`, so the Redis store (on one server and on a cluster) and its memory twin are held
/// to the same tests.
#[macro_export]
macro_rules! store_contract {
    (redis: $redis:ident, memory: $memory:ident, cases: [$($case:ident),* $(,)?] $(,)?) => {
        mod on_redis {
            $(
                #[tokio::test]
                async fn $case() {
                    super::$case(super::$redis($crate::test_redis().await).await).await;
                }
            )*
        }
        mod on_cluster {
            $(
                #[tokio::test]
                async fn $case() {
                    let redis = $crate::RedisCluster::shared().await.test_redis();
                    super::$case(super::$redis(redis).await).await;
                }
            )*
        }
        mod in_memory {
            $(
                #[tokio::test]
                async fn $case() {
                    super::$case(super::$memory()).await;
                }
            )*
        }
    };
}
