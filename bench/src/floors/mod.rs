//! The floors: what each scenario is bounded by, measured in the same run.

mod handlers;
mod hash;
mod hop;
mod smtp;

pub use handlers::{FloorServer, GET_PATH, SCRIPT_PATH};
pub use hash::{argon2id_hash_time, argon2id_parallel_rate};
pub use hop::{HOP_PATH, HopFloor, HopHalf};
pub use smtp::send_raw;
