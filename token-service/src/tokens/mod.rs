//! Reset tokens: their shape and digest (`codec`), the store contract (`store`) and its two
//! implementations (`redis`, `memory`).

pub(crate) mod codec;
pub(crate) mod memory;
pub(crate) mod redis;
pub(crate) mod store;

#[cfg(test)]
mod contract_tests;

pub(crate) use codec::{Token, TokenHasher};
pub(crate) use store::{CLAIM_TIMEOUT, Claim, ClaimId, LapsedClaim, TokenRecord, TokenStore};
