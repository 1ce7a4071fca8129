-- Hands a running job back to the queue at its original place without counting the attempt (graceful shutdown,
-- or a slot lost before the work began); fenced.
-- KEYS: wait, active, marker   ARGV: job_prefix, channel, id, fence, reason
local jk = ARGV[1] .. ARGV[3]
local cur = redis.call('HMGET', jk, 'state', 'fence', 'seq', 'attempts')
if cur[1] ~= 'running' or cur[2] ~= ARGV[4] then
  return {0, cur[1] or 'missing'}
end
local now = now_ms()
local attempts = math.max(0, (tonumber(cur[4]) or 1) - 1)
redis.call('HSET', jk, 'state', 'queued', 'attempts', attempts, 'queued_at', now, 'updated_at', now)
redis.call('HDEL', jk, 'lease_until', 'holder', 'progress', 'gpu')
redis.call('ZREM', KEYS[2], ARGV[3])
redis.call('ZADD', KEYS[1], tonumber(cur[3]), ARGV[3])
redis.call('ZADD', KEYS[3], 0, '0')
publish(ARGV[2], {id = ARGV[3], type = 'released', state = 'queued', at = now, reason = ARGV[5]})
return {1, 'queued'}
