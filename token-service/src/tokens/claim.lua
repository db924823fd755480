-- Takes hold of a token for one redemption, or says precisely why not.
-- KEYS[1] = the token's hash
-- ARGV[1] = now (unix ms), ARGV[2] = claim id, ARGV[3] = claim deadline (unix ms),
-- ARGV[4] = the surface redeeming it
-- Answers {'claimed', account_id, email, locale, issued_at, expires_at};
-- {'lapsed', the same five, the earlier claim id, its surface} for a claim whose deadline
-- passed (its password change may have landed: the caller settles it, this never takes it over);
-- or {'unknown'}, {'spent'}, {'expired'}, {'in_use'}.
local f = redis.call('HMGET', KEYS[1], 'state', 'expires_at', 'claim_until', 'account_id',
                     'email', 'locale', 'issued_at', 'claim_id', 'surface')
local state = f[1]
if not state then return {'unknown'} end
if state == 'spent' then return {'spent'} end
local now = tonumber(ARGV[1])
if state == 'claimed' then
  if tonumber(f[3]) > now then return {'in_use'} end
  return {'lapsed', f[4], f[5], f[6], f[7], f[2], f[8], f[9] or ''}
end
if tonumber(f[2]) <= now then return {'expired'} end
redis.call('HSET', KEYS[1], 'state', 'claimed', 'claim_id', ARGV[2], 'claim_until', ARGV[3],
           'surface', ARGV[4])
return {'claimed', f[4], f[5], f[6], f[7], f[2]}
