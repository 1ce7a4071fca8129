-- Takes up to `max` jobs in FIFO order and records the lease in the same step.
-- KEYS, ARGV[1..8]: queue_context (lib.lua), with marker   ARGV[9..]: holder, lease_ms, max
local k, a = queue_context()
local holder, lease, max = ARGV[9], tonumber(ARGV[10]), tonumber(ARGV[11])
local now = now_ms()
local now_s, until_s = int_text(now), int_text(now + lease)
local holder_json = ',"holder":' .. cjson.encode(holder)

promote_due(k.delayed, k.wait, a.job_prefix, now)

local out = {}
local popped = redis.call('ZPOPMIN', k.wait, max)
for i = 1, #popped, 2 do
  local id = popped[i]
  local jk = a.job_prefix .. id
  local h = redis.call('HGETALL', jk)
  local state, fence, attempts, fi, ai = nil, 0, 0, nil, nil
  for j = 1, #h, 2 do
    local f = h[j]
    if f == 'state' then state = h[j + 1]; h[j + 1] = 'running'
    elseif f == 'fence' then fence = tonumber(h[j + 1]) or 0; fi = j + 1
    elseif f == 'attempts' then attempts = tonumber(h[j + 1]) or 0; ai = j + 1
    end
  end
  if not state then
    -- Its record is gone (expired or deleted by hand): leave a trace in the dead-letter set instead of losing it silently.
    redis.call('HSET', jk, 'id', id, 'created_at', now)
    finish(k, a, id, 'dead', now, 'missing_record',
      'The job record was missing from Redis while its id was still queued (deleted or evicted); nothing could be run')
  elseif state == 'queued' then
    local fence_s, attempts_s = int_text(fence + 1), int_text(attempts + 1)
    -- renewed = 0 until the holder's first renewal proves the claim reached it
    redis.call('HSET', jk, 'state', 'running', 'fence', fence_s, 'attempts', attempts_s,
      'holder', holder, 'started_at', now_s, 'updated_at', now_s, 'lease_until', until_s, 'renewed', '0')
    redis.call('ZADD', k.active, until_s, id)
    -- the reply is the record as it now stands: patch the copy read above instead of reading it again
    if fi then h[fi] = fence_s else h[#h + 1] = 'fence'; h[#h + 1] = fence_s end
    if ai then h[ai] = attempts_s else h[#h + 1] = 'attempts'; h[#h + 1] = attempts_s end
    local n = #h
    h[n + 1], h[n + 2], h[n + 3], h[n + 4], h[n + 5] = 'holder', holder, 'started_at', now_s, 'updated_at'
    h[n + 6], h[n + 7], h[n + 8], h[n + 9], h[n + 10] = now_s, 'lease_until', until_s, 'renewed', '0'
    out[#out + 1] = {id, fence_s, h}
    redis.call('PUBLISH', a.channel, simple_event(id, 'running', 'running', now_s, holder_json))
  end
  -- any other state: a stale entry (cancelled or finished meanwhile); dropping it is right
end

-- more jobs in line: the marker says so to other consumers, and the reply to this one (it claims again at once)
local more = 0
if #popped == 2 * max and redis.call('ZCARD', k.wait) > 0 then
  redis.call('ZADD', k.marker, 0, '0')
  more = 1
end
local next_due = -1
local nd = redis.call('ZRANGE', k.delayed, 0, 0, 'WITHSCORES')
if #nd > 0 then next_due = math.max(0, tonumber(nd[2]) - now) end
return {out, next_due, more}
