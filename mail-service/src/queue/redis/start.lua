-- Marks a handed-over mail as sending, or acks and drops its entry when the record is gone or
-- already settled.
-- KEYS[1] = the queue stream, KEYS[2] = the mail's record
-- ARGV[1] = the stream entry id, ARGV[2] = now (unix ms), ARGV[3] = the record's ttl (s)
-- Returns {payload, attempt number}, or false.
local payload = redis.call('HGET', KEYS[2], 'payload')
if not payload then
  redis.call('XACK', KEYS[1], 'dispatchers', ARGV[1])
  redis.call('XDEL', KEYS[1], ARGV[1])
  return false
end
local attempt = redis.call('HINCRBY', KEYS[2], 'attempts', 1)
redis.call('HSET', KEYS[2], 'state', 'sending', 'updated_at', ARGV[2])
redis.call('HDEL', KEYS[2], 'next_attempt_at')
redis.call('EXPIRE', KEYS[2], ARGV[3])
return {payload, attempt}
