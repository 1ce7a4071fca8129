-- Takes up to `max` jobs in FIFO order and records the lease in the same step.
-- KEYS: wait, delayed, active, marker, dead, done, events, stats
-- ARGV: job_prefix, img_prefix, channel, holder, lease_ms, max, dead_retention_ms, dead_max, events_max
local k = {wait = KEYS[1], delayed = KEYS[2], active = KEYS[3], marker = KEYS[4], dead = KEYS[5], done = KEYS[6],
  events = KEYS[7], stats = KEYS[8]}
local a = {job_prefix = ARGV[1], img_prefix = ARGV[2], channel = ARGV[3], dead_retention = tonumber(ARGV[7]),
  dead_max = tonumber(ARGV[8]), events_max = tonumber(ARGV[9]), retention = tonumber(ARGV[7])}
local holder, lease, max = ARGV[4], tonumber(ARGV[5]), tonumber(ARGV[6])
local now = now_ms()

promote_due(k.delayed, k.wait, a.job_prefix, now)

local out = {}
while #out < max do
  local head = redis.call('ZPOPMIN', k.wait)
  if #head == 0 then break end
  local id = head[1]
  local jk = a.job_prefix .. id
  local state = redis.call('HGET', jk, 'state')
  if not state then
    -- Its record is gone (expired or deleted by hand): leave a trace in the dead-letter set instead of losing it silently.
    redis.call('HSET', jk, 'id', id, 'created_at', now)
    finish(k, a, id, 'dead', now, 'missing_record',
      'The job record was missing from Redis while its id was still queued (deleted or evicted); nothing could be run')
  elseif state == 'queued' then
    local fence = redis.call('HINCRBY', jk, 'fence', 1)
    redis.call('HINCRBY', jk, 'attempts', 1)
    redis.call('HSET', jk, 'state', 'running', 'holder', holder, 'started_at', now, 'updated_at', now,
      'lease_until', now + lease)
    redis.call('HDEL', jk, 'progress', 'due_at', 'gpu', 'cancel_requested')
    redis.call('ZADD', k.active, now + lease, id)
    out[#out + 1] = {id, tostring(fence), redis.call('HGETALL', jk)}
    publish(a.channel, {id = id, type = 'running', state = 'running', at = now, holder = holder})
  end
  -- any other state: a stale entry (cancelled or finished meanwhile); dropping it is right
end

if redis.call('ZCARD', k.wait) > 0 then
  redis.call('ZADD', k.marker, 0, '0')
end
local next_due = -1
local nd = redis.call('ZRANGE', k.delayed, 0, 0, 'WITHSCORES')
if #nd > 0 then next_due = math.max(0, tonumber(nd[2]) - now) end
return {out, next_due}
