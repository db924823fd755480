//! Reading the dead-letter stream, newest first and a page at a time: it holds up to
//! `MAIL_DEAD_MAX` entries and is never read whole.

use redis::streams::{StreamId, StreamRangeReply};

use super::store::RedisQueue;
use crate::{
    mail::MessageId,
    queue::store::{DeadLetter, QueueError},
};

/// How many dead-letter entries one read takes: the stream is never read whole.
const DEAD_PAGE: usize = 100;

/// A dead-letter entry as an operator sees it, if it has the shape we write.
fn dead_letter(entry: &StreamId) -> Option<DeadLetter> {
    Some(DeadLetter {
        id: MessageId::parse(&entry.get::<String>("id")?)?,
        kind: entry.get("kind").unwrap_or_default(),
        reason: entry.get("reason").unwrap_or_default(),
        failed_at_ms: entry.get("failed_at").unwrap_or_default(),
        retryable: entry.map.contains_key("payload"),
    })
}

impl RedisQueue {
    /// The newest `limit` entries, read backwards a page at a time and then put oldest first.
    pub(super) async fn newest_dead_letters(
        &self,
        limit: usize,
    ) -> Result<Vec<DeadLetter>, QueueError> {
        let mut letters = Vec::new();
        let mut before = None;
        while letters.len() < limit {
            let count = DEAD_PAGE.min(limit - letters.len());
            let Some((page, last)) = self.dead_page(before.as_deref(), count).await? else {
                break;
            };
            letters.extend(page.ids.iter().filter_map(dead_letter));
            before = Some(last);
        }
        letters.reverse();
        Ok(letters)
    }

    /// The entry of the dead mail `id`, searched newest first: a mail is usually retried soon
    /// after it died.
    pub(super) async fn find_dead_letter(
        &self,
        id: &MessageId,
    ) -> Result<Option<StreamId>, QueueError> {
        let mut before = None;
        while let Some((page, last)) = self.dead_page(before.as_deref(), DEAD_PAGE).await? {
            let found = page
                .ids
                .into_iter()
                .find(|entry| entry.get::<String>("id").as_deref() == Some(id.as_str()));
            if found.is_some() {
                return Ok(found);
            }
            before = Some(last);
        }
        Ok(None)
    }

    /// Up to `count` dead-letter entries, newest first, older than the entry `before` (from
    /// the newest when `None`), with the id of the last one: the cursor of the next page.
    /// `None` once there are no more.
    async fn dead_page(
        &self,
        before: Option<&str>,
        count: usize,
    ) -> Result<Option<(StreamRangeReply, String)>, QueueError> {
        let end = before.map_or_else(|| "+".to_owned(), |id| format!("({id}"));
        let page: StreamRangeReply = redis::cmd("XREVRANGE")
            .arg(self.keys.dead())
            .arg(end)
            .arg("-")
            .arg("COUNT")
            .arg(count)
            .query_async(&mut self.connection.clone())
            .await?;
        let last = page.ids.last().map(|entry| entry.id.clone());
        Ok(last.map(|last| (page, last)))
    }
}
