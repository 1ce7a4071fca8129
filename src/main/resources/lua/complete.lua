-- Stores result images and marks jobs succeeded; fenced (a holder whose lease was taken over changes nothing). A batch
-- of one or more completions, each judged on its own (JobQueue sends completions that arrive together in one call).
-- KEYS, ARGV[1..8]: queue_context (lib.lua)   ARGV[9..]: for each job: id, fence, result_ref, result bytes (empty:
--       stored elsewhere by the caller), result_info
-- Returns for each job, in order: {1, 'succeeded'} | {0, its state or 'missing'}
local k, a = queue_context()
-- the settings handed to redis.call stay the text they came as: numbers would be formatted again (see int_text)
local retention, events_max, image_retention = ARGV[4], ARGV[5], ARGV[8]
local now
local out = {}
local succeeded = 0
for i = 9, #ARGV, 5 do
  local id, fence, ref, image, info = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3], ARGV[i + 4]
  local jk = a.job_prefix .. id
  local cur = redis.call('HMGET', jk, 'state', 'fence', 'attempts', 'holder', 'started_at', 'attempt_log', 'input',
    'error_code', 'gpu')
  if cur[1] ~= 'running' or cur[2] ~= fence then
    out[#out + 1] = {0, cur[1] or 'missing'}
  else
    now = now or int_text(now_ms())
    if image ~= '' then -- empty: the caller stored the image in another store
      redis.call('SET', a.img_prefix .. ref, image, 'PX', image_retention)
    end
    if cur[7] then redis.call('PEXPIRE', a.img_prefix .. cur[7], image_retention) end
    local log = with_attempt(cur[6], success_entry(cur[3], cur[4], cur[9], cur[5], now))
    redis.call('HSET', jk, 'state', 'succeeded', 'finished_at', now, 'updated_at', now, 'result', ref,
      'result_info', info, 'attempt_log', log)
    if cur[8] then
      -- an earlier attempt's error is history now (it stays in the attempt log)
      redis.call('HDEL', jk, 'error_code', 'error_message', 'error_retryable')
    end
    redis.call('ZREM', k.active, id)
    redis.call('PEXPIRE', jk, retention)
    record_outcome(k.events, events_max, id, 'succeeded', now)
    redis.call('PUBLISH', a.channel, simple_event(id, 'succeeded', 'succeeded', now))
    succeeded = succeeded + 1
    out[#out + 1] = {1, 'succeeded'}
  end
end
if succeeded > 0 then incr_stat(k.stats, 'succeeded', succeeded) end
return out
