-- Extends a lease; fenced. Returns {1, cancel_requested} or {0, state} when the caller no longer holds the job.
-- KEYS: active   ARGV: job_prefix, id, fence, lease_ms, gpu (optional), prompt_id (optional)
local jk = ARGV[1] .. ARGV[2]
local cur = redis.call('HMGET', jk, 'state', 'fence', 'cancel_requested')
if cur[1] ~= 'running' or cur[2] ~= ARGV[3] then
  return {0, cur[1] or 'missing'}
end
local now = now_ms()
local until_ms = now + tonumber(ARGV[4])
redis.call('ZADD', KEYS[1], 'XX', until_ms, ARGV[2])
redis.call('HSET', jk, 'lease_until', until_ms, 'renewed', '1')
if ARGV[5] and ARGV[5] ~= '' then redis.call('HSET', jk, 'gpu', ARGV[5]) end
if ARGV[6] and ARGV[6] ~= '' then redis.call('HSET', jk, 'prompt_id', ARGV[6]) end
return {1, cur[3] or '0'}
