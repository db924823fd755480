-- Moves retries that are due back into the queue.
-- KEYS[1] = the retry set, KEYS[2] = the queue stream
-- ARGV[1] = now (unix ms), ARGV[2] = the most to move in one call
-- Returns how many it moved.
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ARGV[2])
for _, id in ipairs(due) do
  redis.call('ZREM', KEYS[1], id)
  redis.call('XADD', KEYS[2], '*', 'id', id)
end
return #due
