-- Hands a running job back to the queue at its original place without counting the attempt (graceful shutdown,
-- or a slot lost before the work began); fenced.
-- A job whose cancel was requested is ended as cancelled instead.
-- KEYS, ARGV[1..8]: queue_context (lib.lua), with marker   ARGV[9..]: id, fence, reason
local k, a = queue_context()
local id, fence, reason = ARGV[9], ARGV[10], ARGV[11]
local jk = a.job_prefix .. id
local cur = redis.call('HMGET', jk, 'state', 'fence', 'seq', 'attempts', 'cancel_requested')
if cur[1] ~= 'running' or cur[2] ~= fence then
  return {0, cur[1] or 'missing'}
end
local now = now_ms()
if cur[5] == '1' then
  finish(k, a, id, 'cancelled', now, 'cancelled', 'Cancelled while running')
  return {1, 'cancelled'}
end
local attempts = math.max(0, (tonumber(cur[4]) or 1) - 1)
unlease(k, jk, id, now, 'attempts', attempts)
redis.call('ZADD', k.wait, tonumber(cur[3]), id)
redis.call('ZADD', k.marker, 0, '0')
publish(a.channel, {id = id, type = 'released', state = 'queued', at = now, reason = reason})
return {1, 'queued'}
