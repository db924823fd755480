//! Accounts in process memory, for the `stack` binary when no Redis can be had.

use std::{collections::BTreeMap, collections::HashMap, ops::Bound};

use async_trait::async_trait;
use tokio::sync::Mutex;

use super::{
    email::NormalizedEmail,
    password::HashedPassword,
    store::{AccountPage, AccountRecord, AccountStore, new_account_id},
};
use crate::{Error, clock::UnixMillis};

/// Accounts held in maps, lost when the process exits.
#[derive(Debug, Default)]
pub(crate) struct MemoryAccountStore {
    /// All state behind one lock, so each operation is atomic.
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    /// Accounts by id; ordered, so a listing cursor is simply the last id returned.
    by_id: BTreeMap<String, AccountRecord>,
    /// Account id by normalised address.
    by_email: HashMap<NormalizedEmail, String>,
    /// Per account id: the reset that last set its password, and the last reset fenced off.
    resets: HashMap<String, ResetMarks>,
}

#[derive(Debug, Default)]
struct ResetMarks {
    last: String,
    fence: String,
}

#[async_trait]
impl AccountStore for MemoryAccountStore {
    async fn by_id(&self, id: &str) -> Result<Option<AccountRecord>, Error> {
        Ok(self.state.lock().await.by_id.get(id).cloned())
    }

    async fn by_email(&self, email: &NormalizedEmail) -> Result<Option<AccountRecord>, Error> {
        let state = self.state.lock().await;
        Ok(state
            .by_email
            .get(email)
            .and_then(|id| state.by_id.get(id))
            .cloned())
    }

    async fn upsert(
        &self,
        email: &NormalizedEmail,
        password_hash: &HashedPassword,
        locale: Option<&str>,
        now: UnixMillis,
    ) -> Result<AccountRecord, Error> {
        let mut state = self.state.lock().await;
        let existing = state
            .by_email
            .get(email)
            .and_then(|id| state.by_id.get(id))
            .cloned();
        let record = match existing {
            Some(mut record) => {
                record.password_hash = password_hash.clone();
                record.password_changed_at = now;
                if let Some(locale) = locale {
                    record.locale = locale.to_owned();
                }
                record
            }
            None => AccountRecord {
                id: new_account_id()?,
                email: email.clone(),
                password_hash: password_hash.clone(),
                locale: locale.unwrap_or_default().to_owned(),
                created_at: now,
                password_changed_at: now,
            },
        };
        state.by_email.insert(email.clone(), record.id.clone());
        state.by_id.insert(record.id.clone(), record.clone());
        Ok(record)
    }

    async fn set_password(
        &self,
        id: &str,
        password_hash: &HashedPassword,
        now: UnixMillis,
        reset: &str,
    ) -> Result<AccountRecord, Error> {
        let mut state = self.state.lock().await;
        let State { by_id, resets, .. } = &mut *state;
        let record = by_id.get_mut(id).ok_or(Error::AccountNotFound)?;
        let marks = resets.entry(id.to_owned()).or_default();
        if marks.fence == reset {
            return Err(Error::ResetInterrupted);
        }
        marks.last = reset.to_owned();
        record.password_hash = password_hash.clone();
        record.password_changed_at = now;
        Ok(record.clone())
    }

    async fn settle_reset(&self, id: &str, reset: &str) -> Result<Option<AccountRecord>, Error> {
        let mut state = self.state.lock().await;
        let State { by_id, resets, .. } = &mut *state;
        let Some(record) = by_id.get(id) else {
            return Ok(None);
        };
        let marks = resets.entry(id.to_owned()).or_default();
        if marks.last == reset {
            return Ok(Some(record.clone()));
        }
        marks.fence = reset.to_owned();
        Ok(None)
    }

    async fn list(&self, cursor: &str, page_size: usize) -> Result<AccountPage, Error> {
        let start = match cursor {
            "" => Bound::Unbounded,
            after if after.starts_with("acct_") => Bound::Excluded(after.to_owned()),
            _ => return Err(Error::InvalidArgument("the cursor is not valid")),
        };
        let state = self.state.lock().await;
        let mut page = state
            .by_id
            .range((start, Bound::Unbounded))
            .map(|(_, record)| record.clone());
        let accounts: Vec<AccountRecord> = page.by_ref().take(page_size.max(1)).collect();
        let next_cursor = match (page.next(), accounts.last()) {
            (Some(_), Some(last)) => last.id.clone(),
            _ => String::new(),
        };
        Ok(AccountPage {
            accounts,
            next_cursor,
        })
    }
}
