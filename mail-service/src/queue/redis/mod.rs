//! The queue on Redis Streams with a consumer group:
//!
//! - `keys.rs`: the key names, their hash tag and lifetimes;
//! - `*.lua`, loaded by `scripts.rs`: every step that touches more than one key, atomically;
//! - `store.rs`: [`RedisQueue`], the queue contract over one shared connection;
//! - `replicated.rs`: on a cluster, each enqueue waits for a replica to hold it;
//! - `dead_letters.rs`: reading the dead-letter stream a page at a time;
//! - `consumer.rs`: one worker's consumer, on a connection of its own (a blocking read would
//!   hold up every other command on a shared one).

mod consumer;
mod dead_letters;
mod keys;
mod replicated;
mod scripts;
mod store;
#[cfg(test)]
mod tests;

pub(crate) use self::store::RedisQueue;
