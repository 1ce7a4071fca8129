-- KEYS: wait, delayed, marker, seq, stats, job, idem, input image
-- ARGV: id, job_prefix, channel, max_depth, idem_ttl_ms (0 = no idempotency key), field, value, ...
local wait, delayed, marker, seqkey, stats, jk, idem, img = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7], KEYS[8]
local id, job_prefix, channel = ARGV[1], ARGV[2], ARGV[3]
local max_depth, idem_ttl = tonumber(ARGV[4]), tonumber(ARGV[5])
local now = now_ms()

if idem_ttl > 0 then
  local existing = redis.call('GET', idem)
  if existing and redis.call('EXISTS', job_prefix .. existing) == 1 then
    local pos = redis.call('ZRANK', wait, existing)
    return {'dup', existing, pos and (pos + 1) or -1}
  end
end

local depth = redis.call('ZCARD', wait) + redis.call('ZCARD', delayed)
if depth >= max_depth then
  return {'full', '', depth}
end

local seq = redis.call('INCR', seqkey)
local fields = {}
for i = 6, #ARGV do fields[#fields + 1] = ARGV[i] end
redis.call('HSET', jk, 'id', id, 'state', 'queued', 'seq', seq, 'created_at', now, 'queued_at', now,
  'updated_at', now, 'attempts', 0, 'stalls', 0, 'fence', 0, unpack(fields))
redis.call('PERSIST', img)
redis.call('ZADD', wait, seq, id)
redis.call('ZADD', marker, 0, '0')
if idem_ttl > 0 then
  redis.call('SET', idem, id, 'PX', idem_ttl)
end
incr_stat(stats, 'enqueued')
local pos = redis.call('ZRANK', wait, id) + 1
publish(channel, {id = id, type = 'queued', state = 'queued', at = now, position = pos})
return {'ok', id, pos}
