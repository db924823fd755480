//! Tokens in process memory, for the `stack` binary when no Redis can be had. One mutex makes
//! every operation atomic; records are forgotten at the same moment Redis would expire them.

use std::collections::{HashMap, HashSet};

use async_trait::async_trait;
use tokio::sync::Mutex;

use super::{
    codec::Digest,
    store::{Claim, ClaimId, LapsedClaim, TokenRecord, TokenStore},
};
use crate::{Error, clock::UnixMillis};

/// Tokens held in a `HashMap`, lost when the process exits.
#[derive(Debug, Default)]
pub(crate) struct MemoryTokenStore {
    /// All state behind one lock, so each operation sees and leaves it consistent.
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    /// Records by digest.
    tokens: HashMap<Digest, Entry>,
    /// Outstanding digests per account id.
    by_account: HashMap<String, HashSet<Digest>>,
}

#[derive(Debug)]
struct Entry {
    record: TokenRecord,
    state: TokenState,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum TokenState {
    Valid,
    Claimed {
        claim: ClaimId,
        until: UnixMillis,
        surface: String,
    },
    /// Spent by this claim.
    Spent(ClaimId),
}

impl Entry {
    /// The claim holding this entry, if it lapsed by `now`.
    fn lapsed(&self, digest: &Digest, now: UnixMillis) -> Option<LapsedClaim> {
        match &self.state {
            TokenState::Claimed {
                claim,
                until,
                surface,
            } if *until <= now => Some(LapsedClaim {
                digest: digest.clone(),
                claim: claim.clone(),
                record: self.record.clone(),
                surface: surface.clone(),
            }),
            _ => None,
        }
    }
}

impl State {
    /// Drops every record past its grace period, as Redis key expiry would.
    fn forget_expired(&mut self, now: UnixMillis) {
        self.tokens
            .retain(|_, entry| entry.record.forget_at() > now);
        let tokens = &self.tokens;
        self.by_account.retain(|_, digests| {
            digests.retain(|digest| tokens.contains_key(digest));
            !digests.is_empty()
        });
    }

    /// The live entry for `digest`, if any.
    fn entry(&mut self, digest: &Digest, now: UnixMillis) -> Option<&mut Entry> {
        self.tokens
            .get_mut(digest)
            .filter(|entry| entry.record.forget_at() > now)
    }

    /// Deletes the account's outstanding tokens except `keep`.
    fn revoke_account(&mut self, account_id: &str, keep: Option<&Digest>) {
        let Some(digests) = self.by_account.get_mut(account_id) else {
            return;
        };
        let revoked: Vec<Digest> = digests
            .iter()
            .filter(|digest| Some(*digest) != keep)
            .cloned()
            .collect();
        for digest in &revoked {
            digests.remove(digest);
            self.tokens.remove(digest);
        }
        if digests.is_empty() {
            self.by_account.remove(account_id);
        }
    }
}

/// Why `entry` cannot be redeemed at `now`, if it cannot.
fn refusal(entry: &Entry, now: UnixMillis) -> Option<Error> {
    if matches!(entry.state, TokenState::Spent(_)) {
        Some(Error::TokenSpent)
    } else if entry.record.expires_at <= now {
        Some(Error::TokenExpired)
    } else {
        None
    }
}

#[async_trait]
impl TokenStore for MemoryTokenStore {
    async fn insert(
        &self,
        digest: &Digest,
        record: &TokenRecord,
        revoke_older: bool,
    ) -> Result<(), Error> {
        let mut state = self.state.lock().await;
        state.forget_expired(record.issued_at);
        if revoke_older {
            state.revoke_account(&record.account_id, None);
        }
        state.tokens.insert(
            digest.clone(),
            Entry {
                record: record.clone(),
                state: TokenState::Valid,
            },
        );
        state
            .by_account
            .entry(record.account_id.clone())
            .or_default()
            .insert(digest.clone());
        Ok(())
    }

    async fn check(&self, digest: &Digest, now: UnixMillis) -> Result<TokenRecord, Error> {
        let mut state = self.state.lock().await;
        let entry = state.entry(digest, now).ok_or(Error::TokenUnknown)?;
        match refusal(entry, now) {
            Some(error) => Err(error),
            None => Ok(entry.record.clone()),
        }
    }

    async fn claim(
        &self,
        digest: &Digest,
        claim: &ClaimId,
        surface: &str,
        now: UnixMillis,
        claim_until: UnixMillis,
    ) -> Result<Claim, Error> {
        let mut state = self.state.lock().await;
        let entry = state.entry(digest, now).ok_or(Error::TokenUnknown)?;
        if let Some(lapsed) = entry.lapsed(digest, now) {
            return Ok(Claim::Lapsed(lapsed));
        }
        if let Some(error) = refusal(entry, now) {
            return Err(error);
        }
        if matches!(entry.state, TokenState::Claimed { .. }) {
            return Err(Error::TokenInUse);
        }
        entry.state = TokenState::Claimed {
            claim: claim.clone(),
            until: claim_until,
            surface: surface.to_owned(),
        };
        Ok(Claim::Held(entry.record.clone()))
    }

    async fn release(&self, digest: &Digest, claim: &ClaimId) -> Result<bool, Error> {
        let mut state = self.state.lock().await;
        let Some(entry) = state.tokens.get_mut(digest) else {
            return Ok(false);
        };
        match &entry.state {
            TokenState::Claimed { claim: held, .. } if held == claim => {
                entry.state = TokenState::Valid;
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn lapsed(&self, now: UnixMillis, limit: usize) -> Result<Vec<LapsedClaim>, Error> {
        let state = self.state.lock().await;
        Ok(state
            .tokens
            .iter()
            .filter_map(|(digest, entry)| entry.lapsed(digest, now))
            .take(limit)
            .collect())
    }

    async fn revoke(&self, digest: &Digest) -> Result<(), Error> {
        let mut state = self.state.lock().await;
        if let Some(entry) = state.tokens.remove(digest) {
            let account_id = entry.record.account_id;
            if let Some(digests) = state.by_account.get_mut(&account_id) {
                digests.remove(digest);
                if digests.is_empty() {
                    state.by_account.remove(&account_id);
                }
            }
        }
        Ok(())
    }

    async fn finalize(
        &self,
        digest: &Digest,
        claim: &ClaimId,
        now: UnixMillis,
    ) -> Result<bool, Error> {
        let mut state = self.state.lock().await;
        let Some(entry) = state.entry(digest, now) else {
            return Ok(false);
        };
        match &entry.state {
            TokenState::Claimed { claim: held, .. } | TokenState::Spent(held) if held == claim => {}
            _ => return Ok(false),
        }
        entry.state = TokenState::Spent(claim.clone());
        let account_id = entry.record.account_id.clone();
        state.revoke_account(&account_id, Some(digest));
        // The spent token stays (to answer "already used") but is no longer outstanding.
        if let Some(digests) = state.by_account.get_mut(&account_id) {
            digests.remove(digest);
            if digests.is_empty() {
                state.by_account.remove(&account_id);
            }
        }
        Ok(true)
    }
}
