//! The queue's Lua scripts, each in its own file headed by its KEYS and ARGV. Every key a
//! script is given comes from [`super::keys::Keys`], so all of them share one hash slot.

use std::sync::LazyLock;

use redis::Script;

/// Queues a mail, unless its idempotency key was seen or the queue is full.
pub(super) static ENQUEUE: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("enqueue.lua")));

/// Hands a mail over (the next new one, or one already read) and marks it as sending.
pub(super) static TAKE: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!("take.lua")));

/// Settles a handed-over mail: sent, retry later or dead.
pub(super) static SETTLE: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("settle.lua")));

/// Puts a dead mail back into the queue.
pub(super) static REVIVE: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("revive.lua")));

/// Moves retries that are due back into the queue.
pub(super) static RELEASE: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("release.lua")));
