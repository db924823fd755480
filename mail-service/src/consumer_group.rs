//! Redis Streams consumer groups, which the queue and the notice consumer both read in.

use passreset_redis::RedisConnection;

/// Where a new group starts reading its stream.
#[derive(Debug, Clone, Copy)]
pub(crate) enum GroupStart {
    /// At the first entry: whatever is in the stream already is read too.
    FirstEntry,
    /// After the last entry: only what is written from now on.
    NewEntries,
}

/// Creates `group` on `stream` (and the stream, when it is missing), unless the group exists.
pub(crate) async fn create_group(
    connection: &mut RedisConnection,
    stream: &str,
    group: &str,
    start: GroupStart,
) -> Result<(), redis::RedisError> {
    let created = redis::cmd("XGROUP")
        .arg("CREATE")
        .arg(stream)
        .arg(group)
        .arg(match start {
            GroupStart::FirstEntry => "0",
            GroupStart::NewEntries => "$",
        })
        .arg("MKSTREAM")
        .query_async::<()>(connection)
        .await;
    match created {
        Err(error) if error.code() == Some("BUSYGROUP") => Ok(()),
        other => other,
    }
}
