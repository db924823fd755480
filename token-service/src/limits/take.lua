-- GCRA: one decision on one subject's theoretical arrival time (TAT, Unix ms), checked and
-- charged in one step, so concurrent callers cannot spend more than the budget between them.
-- KEYS[1]: the subject's key
-- ARGV[1]: interval (ms): how far each allowed event pushes the TAT
-- ARGV[2]: tolerance (ms): how far ahead of now the TAT may run
-- ARGV[3]: now (Unix ms), or empty for the server's TIME (in production: one clock for every
--          replica, however far their own clocks drift)
-- Returns the ms until one more event is allowed; 0: allowed now, and counted.
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
if not now then
  local time = redis.call('TIME')
  now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
end
local tat = tonumber(redis.call('GET', KEYS[1])) or now
if tat < now then tat = now end
local wait = tat - tolerance - now
if wait > 0 then return wait end
local next_tat = tat + interval
redis.call('SET', KEYS[1], string.format('%d', next_tat), 'PX', next_tat - now)
return 0
