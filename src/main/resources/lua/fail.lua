-- Ends an attempt that did not succeed; fenced. mode:
--   auto      retryable error: back to the queue after delay_ms, or dead when attempts are used up
--   fail      non-retryable error (bad input, invalid workflow): failed at once
--   dead      poison record: straight to the dead-letter set
--   cancelled the holder stopped the job because a user cancelled it
-- KEYS, ARGV[1..8]: queue_context (lib.lua)   ARGV[9..]: id, fence, mode, code, message, delay_ms, max_attempts
local k, a = queue_context()
local id, fence, mode, code, message = ARGV[9], ARGV[10], ARGV[11], ARGV[12], ARGV[13]
local delay, max_attempts = tonumber(ARGV[14]), tonumber(ARGV[15])
local jk = a.job_prefix .. id
local cur = redis.call('HMGET', jk, 'state', 'fence', 'attempts', 'holder', 'started_at', 'cancel_requested', 'gpu')
if cur[1] ~= 'running' or cur[2] ~= fence then
  return {0, cur[1] or 'missing'}
end
local now = now_ms()
local attempts = tonumber(cur[3]) or 0
log_attempt(jk, {attempt = attempts, holder = cur[4], gpu = cur[7] or nil, started_at = tonumber(cur[5]), ended_at = now,
  outcome = mode == 'auto' and 'error' or mode, code = code, message = message})
redis.call('HSET', jk, 'error_retryable', mode == 'auto' and '1' or '0')

if mode == 'auto' and cur[6] == '1' then
  -- a person cancelled it meanwhile: do not try again
  finish(k, a, id, 'cancelled', now, 'cancelled', 'Cancelled while running')
  return {1, 'cancelled'}
end

if mode == 'auto' and attempts < max_attempts then
  local due = now + delay
  unlease(k, jk, id, now, 'due_at', due, 'error_code', code, 'error_message', message)
  redis.call('ZADD', k.delayed, due, id)
  incr_stat(k.stats, 'retried')
  publish(a.channel, {id = id, type = 'retrying', state = 'queued', at = now, due_at = due, code = code, message = message,
    attempts = attempts})
  return {1, 'retrying', due}
end

if mode == 'auto' then
  finish(k, a, id, 'dead', now, code, 'Gave up after ' .. attempts .. ' attempts: ' .. message)
  return {1, 'dead'}
elseif mode == 'dead' then
  finish(k, a, id, 'dead', now, code, message)
  return {1, 'dead'}
elseif mode == 'cancelled' then
  finish(k, a, id, 'cancelled', now, code, message)
  return {1, 'cancelled'}
end
finish(k, a, id, 'failed', now, code, message)
return {1, 'failed'}
