-- Stores the result image and marks the job succeeded; fenced (a holder whose lease was taken over changes nothing).
-- KEYS: active, events, stats
-- ARGV: job_prefix, img_prefix, channel, id, fence, result_ref, result bytes (empty: stored elsewhere by the caller),
--       result_info, retention_ms, events_max, image_retention_ms (images of finished jobs may go sooner than their records)
local active, events, stats = KEYS[1], KEYS[2], KEYS[3]
local job_prefix, img_prefix, channel, id, fence = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local retention = tonumber(ARGV[9])
local image_retention = tonumber(ARGV[11])
local jk = job_prefix .. id
local cur = redis.call('HMGET', jk, 'state', 'fence', 'attempts', 'holder', 'started_at', 'attempt_log', 'input', 'error_code', 'gpu')
if cur[1] ~= 'running' or cur[2] ~= fence then
  return {0, cur[1] or 'missing'}
end
local now = now_ms()
if ARGV[7] ~= '' then -- empty: the caller stored the image in another store
  redis.call('SET', img_prefix .. ARGV[6], ARGV[7], 'PX', image_retention)
end
if cur[7] then redis.call('PEXPIRE', img_prefix .. cur[7], image_retention) end
local log = with_attempt(cur[6], success_entry(cur[3], cur[4], cur[9], cur[5], now))
redis.call('HSET', jk, 'state', 'succeeded', 'finished_at', now, 'updated_at', now, 'result', ARGV[6],
  'result_info', ARGV[8], 'attempt_log', log)
if cur[8] then
  -- an earlier attempt's error is history now (it stays in the attempt log)
  redis.call('HDEL', jk, 'error_code', 'error_message', 'error_retryable')
end
redis.call('ZREM', active, id)
redis.call('PEXPIRE', jk, retention)
incr_stat(stats, 'succeeded')
record_outcome(events, tonumber(ARGV[10]), id, 'succeeded', now)
redis.call('PUBLISH', channel, simple_event(id, 'succeeded', 'succeeded', now))
return {1, 'succeeded'}
