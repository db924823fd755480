-- Puts a dead mail back into the queue under its id and drops its dead-letter entry.
-- KEYS[1] = the mail's record, KEYS[2] = the queue stream, KEYS[3] = the dead-letter stream
-- ARGV[1] = the dead-letter entry id, ARGV[2] = message id, ARGV[3] = payload,
-- ARGV[4] = now (unix ms), ARGV[5] = the record's ttl (s)
-- Returns 1.
redis.call('HSET', KEYS[1], 'state', 'queued', 'attempts', 0, 'payload', ARGV[3],
           'updated_at', ARGV[4])
redis.call('HDEL', KEYS[1], 'last_error', 'next_attempt_at')
redis.call('EXPIRE', KEYS[1], ARGV[5])
redis.call('XADD', KEYS[2], '*', 'id', ARGV[2])
redis.call('XDEL', KEYS[3], ARGV[1])
return 1
