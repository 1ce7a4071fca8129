-- The lease that makes one bot instance per token the active one (it polls, edits status messages, delivers).
-- KEYS: lease   ARGV: owner, ttl_ms, mode (hold | release)
-- hold: renews our lease, or takes a free one; returns 1 (renewed), 2 (taken) or 0 (someone else holds it).
local cur = redis.call('GET', KEYS[1])
if ARGV[3] == 'release' then
  if cur == ARGV[1] then redis.call('DEL', KEYS[1]) return 1 end
  return 0
end
if cur == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
if not cur then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 2
end
return 0
