-- Settles a handed-over mail: acks and deletes its entry and records the outcome.
-- KEYS[1] = the queue stream, KEYS[2] = the mail's record, KEYS[3] = the retry set,
-- KEYS[4] = the dead-letter stream
-- ARGV[1] = the stream entry id, ARGV[2] = outcome (sent | retry | dead), ARGV[3] = now (unix
-- ms), ARGV[4] = message id, ARGV[5] = due (unix ms, retry), ARGV[6] = error,
-- ARGV[7] = status retention (s), ARGV[8] = kind, ARGV[9] = the record's ttl (s),
-- ARGV[10] = the link-free copy a dead mail keeps for a retry ('' for none),
-- ARGV[11] = the dead-letter stream's cap (about)
-- Returns 1.
redis.call('XACK', KEYS[1], 'dispatchers', ARGV[1])
redis.call('XDEL', KEYS[1], ARGV[1])
local outcome = ARGV[2]
if outcome == 'sent' then
  redis.call('HSET', KEYS[2], 'state', 'sent', 'updated_at', ARGV[3])
  redis.call('HDEL', KEYS[2], 'payload', 'next_attempt_at')
  redis.call('EXPIRE', KEYS[2], ARGV[7])
elseif outcome == 'retry' then
  redis.call('HSET', KEYS[2], 'state', 'retrying', 'updated_at', ARGV[3],
             'next_attempt_at', ARGV[5], 'last_error', ARGV[6])
  redis.call('EXPIRE', KEYS[2], ARGV[9])
  redis.call('ZADD', KEYS[3], ARGV[5], ARGV[4])
else
  redis.call('HSET', KEYS[2], 'state', 'dead', 'updated_at', ARGV[3], 'last_error', ARGV[6])
  redis.call('HDEL', KEYS[2], 'payload', 'next_attempt_at')
  redis.call('EXPIRE', KEYS[2], ARGV[7])
  if ARGV[10] ~= '' then
    redis.call('XADD', KEYS[4], 'MAXLEN', '~', ARGV[11], '*', 'id', ARGV[4], 'kind', ARGV[8],
               'reason', ARGV[6], 'failed_at', ARGV[3], 'payload', ARGV[10])
  else
    redis.call('XADD', KEYS[4], 'MAXLEN', '~', ARGV[11], '*', 'id', ARGV[4], 'kind', ARGV[8],
               'reason', ARGV[6], 'failed_at', ARGV[3])
  end
end
return 1
