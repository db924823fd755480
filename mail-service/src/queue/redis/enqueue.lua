-- Queues a mail, unless its idempotency key was seen; refuses with '!full' when the queue and
-- the retries already hold the maximum. A suppressed mail writes nothing, so made-up addresses
-- cannot fill Redis, yet costs the same one round trip (and fails the same way while Redis is
-- down) as a queued one: the caller cannot tell them apart.
-- KEYS[1] = the idempotency key, KEYS[2] = the mail's record, KEYS[3] = the queue stream,
-- KEYS[4] = the retry set
-- ARGV[1] = message id, ARGV[2] = payload, ARGV[3] = now (unix ms),
-- ARGV[4] = '1' if the caller gave an idempotency key, ARGV[5] = that key's ttl (s),
-- ARGV[6] = '1' if suppressed, ARGV[7] = the record's ttl (s), ARGV[8] = max depth (0: none)
-- Returns the id of the mail the key first queued (or this one), or '!full'.
if ARGV[4] == '1' then
  local first = redis.call('GET', KEYS[1])
  if first then return first end
end
if ARGV[6] == '1' then return ARGV[1] end
local max_depth = tonumber(ARGV[8])
if max_depth > 0 and
   redis.call('XLEN', KEYS[3]) + redis.call('ZCARD', KEYS[4]) >= max_depth then
  return '!full'
end
if ARGV[4] == '1' then
  redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[5])
end
redis.call('HSET', KEYS[2], 'state', 'queued', 'attempts', 0, 'payload', ARGV[2],
           'updated_at', ARGV[3])
redis.call('EXPIRE', KEYS[2], ARGV[7])
redis.call('XADD', KEYS[3], '*', 'id', ARGV[1])
return ARGV[1]
