-- Shared helpers, prepended to every qwenedit script. All keys live under one hash tag ({q}), so each script
-- touches a single hash slot; job and image keys are built from prefixes passed in ARGV.
-- The keys and settings of every script that may end a job (claim, complete, fail, release, cancel, reap), in one
-- order: KEYS wait, delayed, active, dead, outcomes, stats, then marker for the scripts that wake consumers;
-- ARGV job_prefix, img_prefix, channel, retention_ms, events_max, dead_retention_ms, dead_max, image_retention_ms,
-- then the script's own arguments from ARGV[9].
local function queue_context()
  local k = {wait = KEYS[1], delayed = KEYS[2], active = KEYS[3], dead = KEYS[4], events = KEYS[5], stats = KEYS[6],
    marker = KEYS[7]}
  local a = {job_prefix = ARGV[1], img_prefix = ARGV[2], channel = ARGV[3], retention = tonumber(ARGV[4]),
    events_max = tonumber(ARGV[5]), dead_retention = tonumber(ARGV[6]), dead_max = tonumber(ARGV[7]),
    image_retention = tonumber(ARGV[8])}
  return k, a
end

local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

-- A whole number as text. Lua turns a number handed to redis.call into text with a float format (%.14g), the dearest
-- step of the hot scripts: they format each number once with this and hand over the text.
local function int_text(n)
  return string.format('%d', n)
end

local function publish(channel, event)
  if channel and channel ~= '' then
    redis.call('PUBLISH', channel, cjson.encode(event))
  end
end

local function record_outcome(stream, maxlen, id, state, now)
  redis.call('XADD', stream, 'MAXLEN', '~', maxlen, '*', 'id', id, 'state', state, 'at', tostring(now))
end

-- Returns the attempt log (a JSON array as text) with one entry, already encoded as JSON text, appended. Appends as
-- text; only a log grown past 16 KB is decoded and cut to its last 20 entries.
local function with_attempt(raw, e)
  if not raw or raw == '' or raw == '[]' or raw == '{}' then return '[' .. e .. ']' end
  if #raw > 16000 then
    local ok, arr = pcall(cjson.decode, raw)
    if not ok or type(arr) ~= 'table' then arr = {} end
    while #arr > 19 do table.remove(arr, 1) end
    table.insert(arr, cjson.decode(e))
    return cjson.encode(arr)
  end
  return string.sub(raw, 1, -2) .. ',' .. e .. ']'
end

local function log_attempt(jk, entry)
  redis.call('HSET', jk, 'attempt_log', with_attempt(redis.call('HGET', jk, 'attempt_log'), cjson.encode(entry)))
end

-- A small event as JSON text, built without a table walk for the hot paths (ids and states are plain words; at is
-- the time as text).
local function simple_event(id, etype, state, at, extra)
  return '{"id":"' .. id .. '","type":"' .. etype .. '","state":"' .. state .. '","at":' .. at .. (extra or '') .. '}'
end

-- Sets a time-to-live on the job's stored images (input and result), or removes it (ttl < 0).
local function image_ttl(jk, img_prefix, ttl)
  local refs = redis.call('HMGET', jk, 'input', 'result')
  for _, ref in ipairs(refs) do
    if ref and ref ~= '' then
      if ttl < 0 then redis.call('PERSIST', img_prefix .. ref) else redis.call('PEXPIRE', img_prefix .. ref, ttl) end
    end
  end
end

-- Moves retry-delayed jobs whose time has come back into the wait set, at their original place in line.
local function promote_due(delayed, wait, job_prefix, now)
  local due = redis.call('ZRANGEBYSCORE', delayed, '-inf', now, 'LIMIT', 0, 200)
  for _, id in ipairs(due) do
    redis.call('ZREM', delayed, id)
    local jk = job_prefix .. id
    local f = redis.call('HMGET', jk, 'seq', 'state', 'due_at')
    if f[1] and f[2] == 'queued' then
      -- it became claimable when its back-off ended, not now (promotion waits for the next claim): the pick-up
      -- latency is measured from ready_at
      redis.call('HSET', jk, 'ready_at', f[3] or now)
      redis.call('HDEL', jk, 'due_at')
      redis.call('ZADD', wait, tonumber(f[1]), id)
    end
  end
  return #due
end

-- Takes a running job off its lease and marks it queued again (more fields to set may follow); the caller puts it
-- back in the wait or the delayed set.
local function unlease(k, jk, id, now, ...)
  redis.call('HSET', jk, 'state', 'queued', 'queued_at', now, 'updated_at', now, ...)
  redis.call('HDEL', jk, 'lease_until', 'holder', 'progress', 'gpu')
  redis.call('ZREM', k.active, id)
end

local function incr_stat(stats, field, n)
  redis.call('HINCRBY', stats, field, n or 1)
end

-- Ends a job in a terminal state. dead: kept in the bounded dead-letter set; others: expire after the retention.
local function finish(k, a, id, state, now, code, message)
  local jk = a.job_prefix .. id
  redis.call('HSET', jk, 'state', state, 'finished_at', now, 'updated_at', now)
  if code then
    redis.call('HSET', jk, 'error_code', code, 'error_message', message)
  end
  redis.call('HDEL', jk, 'due_at')
  redis.call('ZREM', k.active, id)
  redis.call('ZREM', k.wait, id)
  redis.call('ZREM', k.delayed, id)
  if state == 'dead' then
    redis.call('ZADD', k.dead, now, id)
    redis.call('PEXPIRE', jk, a.dead_retention)
    image_ttl(jk, a.img_prefix, a.dead_retention)
    redis.call('ZREMRANGEBYSCORE', k.dead, '-inf', now - a.dead_retention)
    local excess = redis.call('ZCARD', k.dead) - a.dead_max
    if excess > 0 then
      local old = redis.call('ZPOPMIN', k.dead, excess)
      for i = 1, #old, 2 do
        local ojk = a.job_prefix .. old[i]
        image_ttl(ojk, a.img_prefix, 1)
        redis.call('DEL', ojk)
      end
    end
  else
    redis.call('PEXPIRE', jk, a.retention)
    image_ttl(jk, a.img_prefix, a.image_retention or a.retention)
  end
  incr_stat(k.stats, state)
  record_outcome(k.events, a.events_max, id, state, now)
  publish(a.channel, {id = id, type = state, state = state, at = now, code = code, message = message})
end

-- The lease a claim records, its numbers already text (see int_text): {holder, holder_json, now, now_s, until_s}.
local function new_lease(holder, lease_ms, now)
  return {holder = holder, holder_json = ',"holder":' .. cjson.encode(holder), now = now, now_s = int_text(now),
    until_s = int_text(now + lease_ms)}
end

-- Claims one job just popped from the wait set under lease `l` (new_lease), recording the lease in the same step.
-- Returns {id, fence, record as it now stands} or nil: a record that is gone is dead-lettered with its reason
-- (missing_record), a stale entry (cancelled or finished meanwhile) is dropped.
local function claim_popped(k, a, id, l)
  local holder, now, now_s, until_s = l.holder, l.now, l.now_s, l.until_s
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
    return nil
  end
  if state ~= 'queued' then
    return nil
  end
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
  redis.call('PUBLISH', a.channel, simple_event(id, 'running', 'running', now_s, l.holder_json))
  return {id, fence_s, h}
end
