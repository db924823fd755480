-- Gives one unit back: moves the subject's TAT one interval earlier, undoing one take. A TAT
-- that is then not ahead of now means a full budget, the same as no key, so the key goes.
-- KEYS[1]: the subject's key
-- ARGV[1]: interval (ms)
-- ARGV[2]: now (Unix ms), or empty for the server's TIME
-- Returns 1 if a unit was given back, 0 if the budget had refilled already.
local tat = tonumber(redis.call('GET', KEYS[1]))
if not tat then return 0 end
local interval = tonumber(ARGV[1])
local now = tonumber(ARGV[2])
if not now then
  local time = redis.call('TIME')
  now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
end
local next_tat = tat - interval
if next_tat <= now then
  redis.call('DEL', KEYS[1])
else
  redis.call('SET', KEYS[1], string.format('%d', next_tat), 'PX', next_tat - now)
end
return 1
