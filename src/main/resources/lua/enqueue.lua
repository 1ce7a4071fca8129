-- Stores the input images and the job records and puts the jobs at the end of the line, one after the other, in one
-- step: a batch of one or more requests (JobQueue sends requests that arrive together in one call).
-- KEYS: wait, delayed, marker, seq, then for each job: job, idem, input image
-- ARGV: job_prefix, max_depth, then for each job: id, idem_ttl_ms (0 = no idempotency key), image bytes (empty:
--       stored elsewhere by the caller), n, then n field/value pairs
-- Returns for each job, in order: {'ok', id, position} | {'dup', first job's id, its position or -1} | {'full', '', depth}
local wait, delayed, marker, seqkey = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local job_prefix, max_depth = ARGV[1], tonumber(ARGV[2])

local waiting = redis.call('ZCARD', wait)
local depth = waiting + redis.call('ZCARD', delayed)
local now
local out = {}
local a = 3
-- sequence numbers: a block is reserved at the first job stored (one per request left), handed out in order, and
-- what was not used is given back at the end; a script stopped by an error in between never reissues a number
local seq_next, seq_last = 0, -1
for k = 5, #KEYS, 3 do
  local jk, idem, img = KEYS[k], KEYS[k + 1], KEYS[k + 2]
  local id, idem_ttl, image, n = ARGV[a], tonumber(ARGV[a + 1]), ARGV[a + 2], tonumber(ARGV[a + 3])
  local first, last = a + 4, a + 3 + 2 * n
  a = last + 1
  local reply
  if idem_ttl > 0 then
    -- checked here and not only by the caller: the same key twice in one batch, or from two clients at once
    local existing = redis.call('GET', idem)
    if existing and redis.call('EXISTS', job_prefix .. existing) == 1 then
      local pos = redis.call('ZRANK', wait, existing)
      reply = {'dup', existing, pos and (pos + 1) or -1}
    end
  end
  if reply then
    out[#out + 1] = reply
  elseif depth >= max_depth then
    out[#out + 1] = {'full', '', depth}
  else
    now = now or int_text(now_ms())
    if seq_next > seq_last then
      local left = (#KEYS - k + 1) / 3 -- this request and the ones after it
      seq_last = redis.call('INCRBY', seqkey, int_text(left))
      seq_next = seq_last - left + 1
    end
    local seq = int_text(seq_next)
    seq_next = seq_next + 1
    -- queued_at and updated_at start as created_at (the reader fills them in)
    redis.call('HSET', jk, 'id', id, 'state', 'queued', 'seq', seq, 'created_at', now, unpack(ARGV, first, last))
    if image ~= '' then redis.call('SET', img, image) end -- empty: the image is in another store
    redis.call('ZADD', wait, seq, id)
    if idem_ttl > 0 then
      redis.call('SET', idem, id, 'PX', idem_ttl)
    end
    waiting = waiting + 1
    depth = depth + 1
    -- The newest sequence number goes last in line. No event: the caller is told the position in the reply, and the
    -- enqueued total is the sequence counter itself.
    out[#out + 1] = {'ok', id, waiting}
  end
end
if seq_last >= seq_next then redis.call('DECRBY', seqkey, int_text(seq_last - seq_next + 1)) end
if now then redis.call('ZADD', marker, 0, '0') end
return out
