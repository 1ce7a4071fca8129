-- Hands a running job back to the queue at its original place without counting the attempt (graceful shutdown,
-- or a slot lost before the work began); fenced.
-- A job whose cancel was requested is ended as cancelled instead.
-- KEYS: wait, delayed, active, dead, outcomes, stats, marker
-- ARGV: job_prefix, img_prefix, channel, id, fence, reason, retention_ms, events_max, dead_retention_ms, dead_max,
--       image_retention_ms
local k = {wait = KEYS[1], delayed = KEYS[2], active = KEYS[3], dead = KEYS[4], events = KEYS[5], stats = KEYS[6]}
local a = {job_prefix = ARGV[1], img_prefix = ARGV[2], channel = ARGV[3], retention = tonumber(ARGV[7]),
  events_max = tonumber(ARGV[8]), dead_retention = tonumber(ARGV[9]), dead_max = tonumber(ARGV[10]),
  image_retention = tonumber(ARGV[11])}
local id = ARGV[4]
local jk = a.job_prefix .. id
local cur = redis.call('HMGET', jk, 'state', 'fence', 'seq', 'attempts', 'cancel_requested')
if cur[1] ~= 'running' or cur[2] ~= ARGV[5] then
  return {0, cur[1] or 'missing'}
end
local now = now_ms()
if cur[5] == '1' then
  finish(k, a, id, 'cancelled', now, 'cancelled', 'Cancelled while running')
  return {1, 'cancelled'}
end
local attempts = math.max(0, (tonumber(cur[4]) or 1) - 1)
redis.call('HSET', jk, 'state', 'queued', 'attempts', attempts, 'queued_at', now, 'updated_at', now)
redis.call('HDEL', jk, 'lease_until', 'holder', 'progress', 'gpu')
redis.call('ZREM', k.active, id)
redis.call('ZADD', k.wait, tonumber(cur[3]), id)
redis.call('ZADD', KEYS[7], 0, '0')
publish(a.channel, {id = id, type = 'released', state = 'queued', at = now, reason = ARGV[6]})
return {1, 'queued'}
