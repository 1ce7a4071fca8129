-- Stores the input image and the job record and puts the job at the end of the line, in one step.
-- KEYS: wait, delayed, marker, seq, job, idem, input image
-- ARGV: id, job_prefix, max_depth, idem_ttl_ms (0 = no idempotency key), image bytes (empty: stored elsewhere by the
--       caller), field, value, ...
local wait, delayed, marker, seqkey, jk, idem, img = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7]
local id, job_prefix = ARGV[1], ARGV[2]
local max_depth, idem_ttl = tonumber(ARGV[3]), tonumber(ARGV[4])

if idem_ttl > 0 then
  local existing = redis.call('GET', idem)
  if existing and redis.call('EXISTS', job_prefix .. existing) == 1 then
    local pos = redis.call('ZRANK', wait, existing)
    return {'dup', existing, pos and (pos + 1) or -1}
  end
end

local waiting = redis.call('ZCARD', wait)
local depth = waiting + redis.call('ZCARD', delayed)
if depth >= max_depth then
  return {'full', '', depth}
end

local now = now_ms()
local seq = redis.call('INCR', seqkey)
local fields = {}
for i = 6, #ARGV do fields[#fields + 1] = ARGV[i] end
-- queued_at and updated_at start as created_at (the reader fills them in)
redis.call('HSET', jk, 'id', id, 'state', 'queued', 'seq', seq, 'created_at', now, unpack(fields))
if ARGV[5] ~= '' then redis.call('SET', img, ARGV[5]) end -- empty: the image is in another store
redis.call('ZADD', wait, seq, id)
redis.call('ZADD', marker, 0, '0')
if idem_ttl > 0 then
  redis.call('SET', idem, id, 'PX', idem_ttl)
end
-- The newest sequence number goes last in line. No event: the caller is told the position in the reply, and the
-- enqueued total is the sequence counter itself.
return {'ok', id, waiting + 1}
