-- Hands a mail to a consumer and marks it as sending, in one round trip. With an entry id
-- (one a blocking read or a claim already handed over) it starts that entry; without one it
-- reads the next new entry for the consumer first, so a busy worker does not pay a second
-- round trip for the read. An entry whose record is gone or already settled is acked and
-- dropped.
-- The record's key is built here from the entry's message id (as BullMQ builds its job keys):
-- it carries the stream's hash tag, so it is in the stream's slot on Redis Cluster too.
-- A worker that has just sent a mail records it as sent in the same call (what settle.lua
-- does for 'sent'), so a busy worker pays one round trip per mail.
-- KEYS[1] = the queue stream
-- ARGV[1] = now (unix ms), ARGV[2] = the record's ttl (s), ARGV[3] = a record key without its
-- message id, ARGV[4] = the consumer's name, ARGV[5] = the entry id ('' to read the next new
-- one), ARGV[6] = that entry's message id, ARGV[7] = the entry id of a mail just sent ('' for
-- none), ARGV[8] = its message id, ARGV[9] = how long its status is kept (s)
-- Returns {} when no new entry waits; {entry id} for an entry without a message id;
-- {entry id, message id} for a dropped entry; {entry id, message id, payload, attempt}.
if ARGV[7] ~= '' then
  redis.call('XACK', KEYS[1], 'dispatchers', ARGV[7])
  redis.call('XDEL', KEYS[1], ARGV[7])
  local sent = ARGV[3] .. ARGV[8]
  redis.call('HSET', sent, 'state', 'sent', 'updated_at', ARGV[1])
  redis.call('HDEL', sent, 'payload', 'next_attempt_at')
  redis.call('EXPIRE', sent, ARGV[9])
end
local entry_id, id = ARGV[5], ARGV[6]
if entry_id == '' then
  local read = redis.call('XREADGROUP', 'GROUP', 'dispatchers', ARGV[4], 'COUNT', 1,
                          'STREAMS', KEYS[1], '>')
  if not read then return {} end
  local entry = read[1][2][1]
  entry_id = entry[1]
  id = nil
  for i = 1, #entry[2], 2 do
    if entry[2][i] == 'id' then id = entry[2][i + 1] end
  end
  if not id then return {entry_id} end
end
local record = ARGV[3] .. id
local payload = redis.call('HGET', record, 'payload')
if not payload then
  redis.call('XACK', KEYS[1], 'dispatchers', entry_id)
  redis.call('XDEL', KEYS[1], entry_id)
  return {entry_id, id}
end
local attempt = redis.call('HINCRBY', record, 'attempts', 1)
redis.call('HSET', record, 'state', 'sending', 'updated_at', ARGV[1])
redis.call('HDEL', record, 'next_attempt_at')
redis.call('EXPIRE', record, ARGV[2])
return {entry_id, id, payload, attempt}
