-- Records progress and extends the lease; fenced.
-- KEYS: active   ARGV: job_prefix, id, fence, lease_ms, channel, progress_json
local jk = ARGV[1] .. ARGV[2]
local cur = redis.call('HMGET', jk, 'state', 'fence', 'cancel_requested')
if cur[1] ~= 'running' or cur[2] ~= ARGV[3] then
  return {0, cur[1] or 'missing'}
end
local now = now_ms()
local until_ms = now + tonumber(ARGV[4])
redis.call('ZADD', KEYS[1], 'XX', until_ms, ARGV[2])
redis.call('HSET', jk, 'progress', ARGV[6], 'updated_at', now, 'lease_until', until_ms, 'renewed', '1')
local ev = {id = ARGV[2], type = 'progress', state = 'running', at = now}
local ok, p = pcall(cjson.decode, ARGV[6])
if ok then ev.progress = p end
publish(ARGV[5], ev)
return {1, cur[3] or '0'}
