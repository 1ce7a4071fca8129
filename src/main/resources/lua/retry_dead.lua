-- Puts a dead-lettered job back at the end of the queue with fresh attempt counters.
-- KEYS: wait, dead, marker, seq   ARGV: job_prefix, img_prefix, channel, id
local jk = ARGV[1] .. ARGV[4]
local cur = redis.call('HMGET', jk, 'state', 'input')
if cur[1] ~= 'dead' then return {0, cur[1] or 'missing'} end
if not cur[2] or redis.call('EXISTS', ARGV[2] .. cur[2]) == 0 then
  return {0, 'no_input'}
end
local now = now_ms()
local seq = redis.call('INCR', KEYS[4])
redis.call('PERSIST', jk)
redis.call('PERSIST', ARGV[2] .. cur[2])
redis.call('HSET', jk, 'state', 'queued', 'seq', seq, 'attempts', 0, 'stalls', 0, 'queued_at', now, 'updated_at', now)
redis.call('HDEL', jk, 'finished_at', 'error_code', 'error_message', 'error_retryable', 'holder', 'lease_until', 'progress', 'result', 'result_info', 'gpu', 'cancel_requested', 'prompt_id',
  'tg_delivered', 'tg_sending') -- the retried job's outcome is news: deliverers deliver it again
redis.call('ZREM', KEYS[2], ARGV[4])
redis.call('ZADD', KEYS[1], seq, ARGV[4])
redis.call('ZADD', KEYS[3], 0, '0')
local pos = redis.call('ZRANK', KEYS[1], ARGV[4]) + 1
redis.call('PUBLISH', ARGV[3], cjson.encode({id = ARGV[4], type = 'queued', state = 'queued', at = now, position = pos}))
return {1, pos}
