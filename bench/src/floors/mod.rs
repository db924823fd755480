//! The floors: what each scenario is bounded by, measured in the same run.

mod handlers;
mod hash;
mod smtp;

pub use handlers::{FloorServer, GET_PATH, SCRIPT_PATH};
pub use hash::{argon2id_hash_time, argon2id_parallel_rate};
pub use smtp::send_raw;
