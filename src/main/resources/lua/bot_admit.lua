-- Admits one request from a person: checks their active-job limit and daily quota, and reserves a slot for the
-- request (member "m:<chat>:<message>") so two quick requests cannot both slip under the limit. Re-running it for
-- the same request (an update handled twice) admits it again without counting it twice.
-- KEYS: user's active set, user's quota counter for today
-- ARGV: reservation, max_active, quota (0 = none), quota_ttl_s, reservation_stale_ms, retention_ms
local active, quota_key = KEYS[1], KEYS[2]
local reservation, max_active, quota = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local quota_ttl, stale_ms, retention = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local now = now_ms()

-- Jobs older than the retention are long finished (or gone); reservations older than stale_ms were abandoned.
redis.call('ZREMRANGEBYSCORE', active, '-inf', now - retention)
for _, m in ipairs(redis.call('ZRANGEBYSCORE', active, '-inf', now - stale_ms)) do
  if string.sub(m, 1, 2) == 'm:' then redis.call('ZREM', active, m) end
end

if redis.call('ZSCORE', active, reservation) then
  return {'ok', redis.call('ZCARD', active), 0}
end
local count = redis.call('ZCARD', active)
if count >= max_active then
  return {'active', count, 0}
end
local counted = 0
if quota > 0 then
  local used = tonumber(redis.call('GET', quota_key) or '0')
  if used >= quota then
    return {'quota', used, 0}
  end
  redis.call('INCR', quota_key)
  redis.call('EXPIRE', quota_key, quota_ttl)
  counted = 1
end
redis.call('ZADD', active, now, reservation)
redis.call('PEXPIRE', active, retention)
return {'ok', count + 1, counted}
