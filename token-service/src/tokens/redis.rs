//! Tokens in Redis: the keys, the Lua scripts and the typed calls around them.
//!
//! - `{prefix}token:{<digest>}`: a hash per token (account_id, email, locale, issued_at,
//!   expires_at, state, claim_id, claim_until, spent_at), expiring at `expires_at` + grace;
//! - `{prefix}account-tokens:{<account_id>}`: the set of the account's outstanding digests;
//! - `{prefix}resets-pending`: a sorted set of claimed digests by claim deadline, where the
//!   sweeper finds the claims that lapsed; an entry is added before its claim and removed
//!   after its release or finalize, so a stale one only costs the sweeper a look.
//!
//! Each script and pipeline touches one key only, so everything works on Redis Cluster (the
//! contract tests run there too); revocation deletes the account's tokens with one DEL, which
//! the cluster client splits by slot.

use std::sync::LazyLock;

use async_trait::async_trait;
use passreset_redis::RedisConnection;
use redis::{AsyncCommands as _, Script};

use super::{
    codec::Digest,
    store::{Claim, ClaimId, LapsedClaim, TokenRecord, TokenStore},
};
use crate::{Error, clock::UnixMillis};

/// Takes hold of a token for one redemption, or says precisely why not. A lapsed claim is
/// reported, never taken over: its password change may have landed.
/// KEYS[1] = token key; ARGV = now, claim id, claim deadline (ms), surface.
static CLAIM: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!("claim.lua")));

/// Makes a claimed token valid again, if the claim is still ours.
/// KEYS[1] = token key; ARGV = claim id.
static RELEASE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local f = redis.call('HMGET', KEYS[1], 'state', 'claim_id')
if f[1] == 'claimed' and f[2] == ARGV[1] then
  redis.call('HSET', KEYS[1], 'state', 'valid')
  redis.call('HDEL', KEYS[1], 'claim_id', 'claim_until')
  return 1
end
return 0
",
    )
});

/// Marks a token claimed by ARGV[1] spent (again, harmlessly, if it already is); returns its
/// account id, or nil if another claim holds it.
/// KEYS[1] = token key; ARGV = claim id, now (ms).
static FINALIZE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local f = redis.call('HMGET', KEYS[1], 'state', 'claim_id', 'account_id')
if f[2] ~= ARGV[1] then return false end
if f[1] == 'claimed' then
  redis.call('HSET', KEYS[1], 'state', 'spent', 'spent_at', ARGV[2])
  redis.call('HDEL', KEYS[1], 'claim_until')
  return f[3]
end
if f[1] == 'spent' then return f[3] end
return false
",
    )
});

/// Tokens in Redis, over the service's one multiplexed connection.
#[derive(Clone)]
pub(crate) struct RedisTokenStore {
    connection: RedisConnection,
    prefix: String,
}

impl std::fmt::Debug for RedisTokenStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisTokenStore")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

impl RedisTokenStore {
    /// A store writing keys under `prefix`.
    pub(crate) fn new(connection: RedisConnection, prefix: &str) -> Self {
        Self {
            connection,
            prefix: prefix.to_owned(),
        }
    }

    fn token_key(&self, digest: &Digest) -> String {
        format!("{}token:{{{}}}", self.prefix, digest.as_str())
    }

    fn pending_key(&self) -> String {
        format!("{}resets-pending", self.prefix)
    }

    async fn forget_pending(&self, digest: &Digest) -> Result<(), Error> {
        let mut connection = self.connection.clone();
        connection
            .zrem::<_, _, ()>(self.pending_key(), digest.as_str())
            .await?;
        Ok(())
    }

    fn account_tokens_key(&self, account_id: &str) -> String {
        format!("{}account-tokens:{{{account_id}}}", self.prefix)
    }

    /// Deletes the account's outstanding tokens except `keep`, and takes them (and `keep`)
    /// out of its set.
    async fn revoke_account(&self, account_id: &str, keep: Option<&Digest>) -> Result<(), Error> {
        let members = self.account_members(account_id).await?;
        self.revoke_members(account_id, &members, keep).await
    }

    /// The digests in the account's set, as stored.
    async fn account_members(&self, account_id: &str) -> Result<Vec<String>, Error> {
        let mut connection = self.connection.clone();
        Ok(connection
            .smembers(self.account_tokens_key(account_id))
            .await?)
    }

    /// Deletes the tokens of `members` except `keep`, then takes `members` out of the
    /// account's set: in that order, so a token whose delete failed stays in the set for the
    /// next revocation to find.
    async fn revoke_members(
        &self,
        account_id: &str,
        members: &[String],
        keep: Option<&Digest>,
    ) -> Result<(), Error> {
        if members.is_empty() {
            return Ok(());
        }
        let mut connection = self.connection.clone();
        let mut revoked = Vec::with_capacity(members.len());
        for member in members {
            match Digest::from_stored(member) {
                Some(digest) if Some(&digest) == keep => {}
                Some(digest) => revoked.push(self.token_key(&digest)),
                None => tracing::warn!(account_id, "ignoring a malformed digest in a token set"),
            }
        }
        // One DEL, not a pipeline with the SREM: the token keys each have their own slot, and
        // on a cluster the client splits a multi-key DEL by slot where a pipeline would fail.
        if !revoked.is_empty() {
            connection.del::<_, ()>(&revoked).await?;
        }
        connection
            .srem::<_, _, ()>(self.account_tokens_key(account_id), members)
            .await?;
        Ok(())
    }

    /// Writes the token's record, expiring once it can no longer matter.
    async fn write_record(&self, digest: &Digest, record: &TokenRecord) -> Result<(), Error> {
        let mut connection = self.connection.clone();
        let key = self.token_key(digest);
        redis::pipe()
            .atomic()
            .hset_multiple(
                &key,
                &[
                    ("account_id", record.account_id.as_str()),
                    ("email", record.email.as_str()),
                    ("locale", record.locale.as_str()),
                    ("issued_at", &record.issued_at.0.to_string()),
                    ("expires_at", &record.expires_at.0.to_string()),
                    ("state", "valid"),
                ],
            )
            .ignore()
            .pexpire_at(&key, record.forget_at().0)
            .ignore()
            .query_async::<()>(&mut connection)
            .await?;
        Ok(())
    }

    /// Adds the token to its account's set, which lives as long as its newest token.
    async fn add_to_account(&self, digest: &Digest, record: &TokenRecord) -> Result<(), Error> {
        let mut connection = self.connection.clone();
        let set_key = self.account_tokens_key(&record.account_id);
        redis::pipe()
            .atomic()
            .sadd(&set_key, digest.as_str())
            .ignore()
            .pexpire_at(&set_key, record.forget_at().0)
            .ignore()
            .query_async::<()>(&mut connection)
            .await?;
        Ok(())
    }
}

/// Reads a record from the fields `[account_id, email, locale, issued_at, expires_at]`.
fn record_from(fields: &[Option<String>]) -> Result<TokenRecord, Error> {
    let text = |index: usize, name: &str| {
        fields
            .get(index)
            .cloned()
            .flatten()
            .ok_or_else(|| corrupt(format!("missing {name}")))
    };
    let millis = |index: usize, name: &str| -> Result<UnixMillis, Error> {
        text(index, name)?
            .parse()
            .map(UnixMillis)
            .map_err(|_| corrupt(format!("{name} is not a number")))
    };
    Ok(TokenRecord {
        account_id: text(0, "account_id")?,
        email: text(1, "email")?,
        locale: fields.get(2).cloned().flatten().unwrap_or_default(),
        issued_at: millis(3, "issued_at")?,
        expires_at: millis(4, "expires_at")?,
    })
}

fn corrupt(detail: String) -> Error {
    Error::CorruptRecord {
        kind: "token",
        detail,
    }
}

#[async_trait]
impl TokenStore for RedisTokenStore {
    async fn insert(
        &self,
        digest: &Digest,
        record: &TokenRecord,
        revoke_older: bool,
    ) -> Result<(), Error> {
        // The older tokens are read before the new one is written: two concurrent issues then
        // leave both new tokens alive rather than each deleting the other's. Past that read,
        // revoking them and writing the new one touch different keys and run at once: two
        // round trips after the read where there were four (the connection pipelines them).
        let older = if revoke_older {
            self.account_members(&record.account_id).await?
        } else {
            Vec::new()
        };
        tokio::try_join!(
            self.revoke_members(&record.account_id, &older, None),
            self.write_record(digest, record),
            self.add_to_account(digest, record),
        )?;
        Ok(())
    }

    async fn check(&self, digest: &Digest, now: UnixMillis) -> Result<TokenRecord, Error> {
        let mut connection = self.connection.clone();
        let fields: Vec<Option<String>> = redis::cmd("HMGET")
            .arg(self.token_key(digest))
            .arg(&[
                "state",
                "account_id",
                "email",
                "locale",
                "issued_at",
                "expires_at",
            ])
            .query_async(&mut connection)
            .await?;
        let Some(Some(state)) = fields.first() else {
            return Err(Error::TokenUnknown);
        };
        if state == "spent" {
            return Err(Error::TokenSpent);
        }
        let record = record_from(fields.get(1..).unwrap_or_default())?;
        if record.expires_at <= now {
            return Err(Error::TokenExpired);
        }
        Ok(record)
    }

    async fn claim(
        &self,
        digest: &Digest,
        claim: &ClaimId,
        surface: &str,
        now: UnixMillis,
        claim_until: UnixMillis,
    ) -> Result<Claim, Error> {
        let mut connection = self.connection.clone();
        // Listed before it is claimed, so no claim is ever missing from the list; NX leaves an
        // earlier claim's entry (and deadline) alone.
        let listed: i64 = redis::cmd("ZADD")
            .arg(self.pending_key())
            .arg("NX")
            .arg(claim_until.0)
            .arg(digest.as_str())
            .query_async(&mut connection)
            .await?;
        let answer: Vec<Option<String>> = CLAIM
            .key(self.token_key(digest))
            .arg(now.0)
            .arg(&claim.0)
            .arg(claim_until.0)
            .arg(surface)
            .invoke_async(&mut connection)
            .await?;
        let refusal = match answer.first().cloned().flatten().as_deref() {
            Some("claimed") => {
                return Ok(Claim::Held(record_from(
                    answer.get(1..).unwrap_or_default(),
                )?));
            }
            Some("lapsed") => {
                let rest = answer.get(1..).unwrap_or_default();
                let field = |index: usize| rest.get(index).cloned().flatten();
                return Ok(Claim::Lapsed(LapsedClaim {
                    digest: digest.clone(),
                    record: record_from(rest)?,
                    claim: ClaimId(field(5).ok_or_else(|| corrupt("missing claim_id".to_owned()))?),
                    surface: field(6).unwrap_or_default(),
                }));
            }
            Some("unknown") => Error::TokenUnknown,
            Some("spent") => Error::TokenSpent,
            Some("expired") => Error::TokenExpired,
            Some("in_use") => Error::TokenInUse,
            _ => corrupt("unexpected answer from the claim script".to_owned()),
        };
        if listed == 1 {
            self.forget_pending(digest).await?;
        }
        Err(refusal)
    }

    async fn release(&self, digest: &Digest, claim: &ClaimId) -> Result<bool, Error> {
        let mut connection = self.connection.clone();
        let released: i64 = RELEASE
            .key(self.token_key(digest))
            .arg(&claim.0)
            .invoke_async(&mut connection)
            .await?;
        if released == 1 {
            self.forget_pending(digest).await?;
        }
        Ok(released == 1)
    }

    async fn lapsed(&self, now: UnixMillis, limit: usize) -> Result<Vec<LapsedClaim>, Error> {
        let mut connection = self.connection.clone();
        let digests: Vec<String> = redis::cmd("ZRANGE")
            .arg(self.pending_key())
            .arg("-inf")
            .arg(now.0)
            .arg("BYSCORE")
            .arg("LIMIT")
            .arg(0)
            .arg(limit)
            .query_async(&mut connection)
            .await?;
        let mut lapsed = Vec::new();
        for member in digests {
            let Some(digest) = Digest::from_stored(&member) else {
                connection
                    .zrem::<_, _, ()>(self.pending_key(), &member)
                    .await?;
                continue;
            };
            let fields: Vec<Option<String>> = redis::cmd("HMGET")
                .arg(self.token_key(&digest))
                .arg(&[
                    "state",
                    "claim_until",
                    "account_id",
                    "email",
                    "locale",
                    "issued_at",
                    "expires_at",
                    "claim_id",
                    "surface",
                ])
                .query_async(&mut connection)
                .await?;
            let field = |index: usize| fields.get(index).cloned().flatten();
            if field(0).as_deref() != Some("claimed") {
                self.forget_pending(&digest).await?;
                continue;
            }
            let until: i64 = field(1).and_then(|until| until.parse().ok()).unwrap_or(0);
            if until > now.0 {
                // Re-claimed since it was listed: wait for the new deadline.
                connection
                    .zadd::<_, _, _, ()>(self.pending_key(), digest.as_str(), until)
                    .await?;
                continue;
            }
            let Some(claim) = field(7) else {
                continue;
            };
            lapsed.push(LapsedClaim {
                record: record_from(fields.get(2..).unwrap_or_default())?,
                claim: ClaimId(claim),
                surface: field(8).unwrap_or_default(),
                digest,
            });
        }
        Ok(lapsed)
    }

    async fn revoke(&self, digest: &Digest) -> Result<(), Error> {
        let mut connection = self.connection.clone();
        let key = self.token_key(digest);
        let account_id: Option<String> = connection.hget(&key, "account_id").await?;
        connection.del::<_, ()>(&key).await?;
        if let Some(account_id) = account_id {
            connection
                .srem::<_, _, ()>(self.account_tokens_key(&account_id), digest.as_str())
                .await?;
        }
        Ok(())
    }

    async fn finalize(
        &self,
        digest: &Digest,
        claim: &ClaimId,
        now: UnixMillis,
    ) -> Result<bool, Error> {
        let mut connection = self.connection.clone();
        let account_id: Option<String> = FINALIZE
            .key(self.token_key(digest))
            .arg(&claim.0)
            .arg(now.0)
            .invoke_async(&mut connection)
            .await?;
        let Some(account_id) = account_id else {
            return Ok(false);
        };
        self.revoke_account(&account_id, Some(digest)).await?;
        self.forget_pending(digest).await?;
        Ok(true)
    }
}
