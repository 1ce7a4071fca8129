-- Marks a job succeeded with its result; fenced.
-- KEYS: wait, delayed, active, dead, done, events, stats
-- ARGV: job_prefix, img_prefix, channel, id, fence, result_ref, result_info, retention_ms, events_max, dead_retention_ms, dead_max
local k = {wait = KEYS[1], delayed = KEYS[2], active = KEYS[3], dead = KEYS[4], done = KEYS[5], events = KEYS[6], stats = KEYS[7]}
local a = {job_prefix = ARGV[1], img_prefix = ARGV[2], channel = ARGV[3], retention = tonumber(ARGV[8]),
  events_max = tonumber(ARGV[9]), dead_retention = tonumber(ARGV[10]), dead_max = tonumber(ARGV[11])}
local id, fence = ARGV[4], ARGV[5]
local jk = a.job_prefix .. id
local cur = redis.call('HMGET', jk, 'state', 'fence', 'attempts', 'holder', 'started_at')
if cur[1] ~= 'running' or cur[2] ~= fence then
  return {0, cur[1] or 'missing'}
end
local now = now_ms()
redis.call('HSET', jk, 'result', ARGV[6], 'result_info', ARGV[7])
redis.call('HDEL', jk, 'error_code', 'error_message', 'error_retryable')
log_attempt(jk, {attempt = tonumber(cur[3]), holder = cur[4], started_at = tonumber(cur[5]), ended_at = now, outcome = 'succeeded'})
finish(k, a, id, 'succeeded', now, nil, nil)
return {1, 'succeeded'}
