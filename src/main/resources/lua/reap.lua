-- Returns jobs whose lease ran out to the queue (or to the dead-letter set after too many), promotes due retries,
-- trims the bounded sets, and repairs a lost wake-up marker. Safe to run on every node at once.
-- KEYS, ARGV[1..8]: queue_context (lib.lua), with marker   ARGV[9..]: max_stalls, max_attempts, limit
local k, a = queue_context()
local max_stalls, max_attempts, limit = tonumber(ARGV[9]), tonumber(ARGV[10]), tonumber(ARGV[11])
local now = now_ms()
local requeued, dead = {}, {}

local promoted = promote_due(k.delayed, k.wait, a.job_prefix, now)

local expired = redis.call('ZRANGEBYSCORE', k.active, '-inf', now, 'LIMIT', 0, limit)
for _, id in ipairs(expired) do
  local jk = a.job_prefix .. id
  local cur = redis.call('HMGET', jk, 'state', 'seq', 'attempts', 'holder', 'started_at', 'cancel_requested', 'renewed', 'gpu')
  if cur[1] ~= 'running' then
    redis.call('ZREM', k.active, id)
  elseif cur[7] == '0' and cur[6] ~= '1' then
    -- The holder never renewed: its claim's reply was lost (a command timeout while Redis stalled) or it died within
    -- milliseconds of claiming. Nothing ran: back in line with the attempt given back and no stall counted.
    unlease(k, jk, id, now, 'attempts', math.max(0, (tonumber(cur[3]) or 1) - 1))
    redis.call('HDEL', jk, 'renewed')
    redis.call('ZADD', k.wait, tonumber(cur[2]), id)
    publish(a.channel, {id = id, type = 'requeued', state = 'queued', at = now, reason = 'claim_not_confirmed'})
    requeued[#requeued + 1] = id
  else
    local stalls = redis.call('HINCRBY', jk, 'stalls', 1)
    local attempts = tonumber(cur[3]) or 0
    log_attempt(jk, {attempt = attempts, holder = cur[4], gpu = cur[8] or nil, started_at = tonumber(cur[5]), ended_at = now,
      outcome = 'lease_expired', code = 'lease_expired',
      message = 'Worker ' .. (cur[4] or '?') .. ' stopped renewing its lease'})
    incr_stat(k.stats, 'reaped')
    if cur[6] == '1' then
      finish(k, a, id, 'cancelled', now, 'cancelled', 'Cancelled while running (its worker stopped answering)')
    elseif stalls >= max_stalls or attempts >= max_attempts then
      finish(k, a, id, 'dead', now, 'lease_expired',
        'The job was abandoned by its worker ' .. stalls .. ' time(s) (the worker died or hung while running it; ' ..
        'the job may be crashing workers); attempts used: ' .. attempts)
      dead[#dead + 1] = id
    else
      unlease(k, jk, id, now)
      redis.call('ZADD', k.wait, tonumber(cur[2]), id)
      publish(a.channel, {id = id, type = 'requeued', state = 'queued', at = now, reason = 'lease_expired'})
      requeued[#requeued + 1] = id
    end
  end
end

redis.call('ZREMRANGEBYSCORE', k.dead, '-inf', now - a.dead_retention)
if redis.call('ZCARD', k.wait) > 0 and (promoted > 0 or #requeued > 0 or redis.call('EXISTS', k.marker) == 0) then
  redis.call('ZADD', k.marker, 0, '0')
end
return {requeued, dead, promoted}
