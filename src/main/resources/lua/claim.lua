-- Takes up to `max` jobs in FIFO order and records the lease in the same step.
-- KEYS, ARGV[1..8]: queue_context (lib.lua), with marker   ARGV[9..]: holder, lease_ms, max
local k, a = queue_context()
local holder, lease, max = ARGV[9], tonumber(ARGV[10]), tonumber(ARGV[11])
local now = now_ms()
local l = new_lease(holder, lease, now)

promote_due(k.delayed, k.wait, a.job_prefix, now)

local out = {}
local popped = redis.call('ZPOPMIN', k.wait, max)
for i = 1, #popped, 2 do
  -- a stale entry (cancelled or finished meanwhile) or a missing record gives nothing
  out[#out + 1] = claim_popped(k, a, popped[i], l)
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
