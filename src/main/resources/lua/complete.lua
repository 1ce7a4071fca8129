-- Stores result images and marks jobs succeeded; fenced (a holder whose lease was taken over changes nothing). A batch
-- of one or more completions, each judged on its own (JobQueue sends completions that arrive together in one call).
-- A completion may also claim the next job in line for its holder (the slot it frees, taken again in the same step:
-- one round trip per job for a consumer that keeps its slots busy), whatever became of the completion itself, except
-- when the job already succeeded with the same fence: that is a retry of a completion whose answer was lost, and the
-- try that got through took the slot's next job already. Jobs still in line after the next claims are signalled on
-- the marker, as a claim does (one that found nothing for a slot may have left some behind).
-- KEYS, ARGV[1..8]: queue_context (lib.lua), with marker   ARGV[9]: lease_ms for the next claims
-- ARGV[10..]: for each job: id, fence, result_ref, result bytes (empty: stored elsewhere by the caller), result_info,
--       holder to claim the next job for ('' = none)
-- Returns for each job, in order: {1, 'succeeded'[, next]} | {0, its state or 'missing'[, next]}, where next is a
-- claimed job as claim.lua gives it, present when one was asked for and taken
local k, a = queue_context()
-- the settings handed to redis.call stay the text they came as: numbers would be formatted again (see int_text)
local retention, events_max, image_retention = ARGV[4], ARGV[5], ARGV[8]
local now
local out = {}
local succeeded = 0
local asking = {} -- {index in out, holder} of the completions that take their slot's next job
for i = 10, #ARGV, 6 do
  local id, fence, ref, image, info = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3], ARGV[i + 4]
  local jk = a.job_prefix .. id
  local cur = redis.call('HMGET', jk, 'state', 'fence', 'input', 'error_code')
  if ARGV[i + 5] ~= '' and not (cur[1] == 'succeeded' and cur[2] == fence) then
    asking[#asking + 1] = {#out + 1, ARGV[i + 5]}
  end
  if cur[1] ~= 'running' or cur[2] ~= fence then
    out[#out + 1] = {0, cur[1] or 'missing'}
  else
    now = now or int_text(now_ms())
    if image ~= '' then -- empty: the caller stored the image in another store
      redis.call('SET', a.img_prefix .. ref, image, 'PX', image_retention)
    end
    if cur[3] then redis.call('PEXPIRE', a.img_prefix .. cur[3], image_retention) end
    -- no attempt log entry: the record's own fields are the attempt that succeeded (Job.fromHash shows it as the
    -- log's last entry), and a log written here would be the first field over 64 bytes of a record whose fields are
    -- all short, turning that hash from Redis's compact encoding into a hash table
    redis.call('HSET', jk, 'state', 'succeeded', 'finished_at', now, 'updated_at', now, 'result', ref,
      'result_info', info)
    if cur[4] then
      -- an earlier attempt's error is history now (it stays in the attempt log)
      redis.call('HDEL', jk, 'error_code', 'error_message', 'error_retryable')
    end
    redis.call('ZREM', k.active, id)
    redis.call('PEXPIRE', jk, retention)
    record_outcome(k.events, events_max, id, 'succeeded', now)
    redis.call('PUBLISH', a.channel, simple_event(id, 'succeeded', 'succeeded', now))
    succeeded = succeeded + 1
    out[#out + 1] = {1, 'succeeded'}
  end
end
if succeeded > 0 then incr_stat(k.stats, 'succeeded', succeeded) end
if #asking > 0 then
  local t = now and tonumber(now) or now_ms() -- the completions' time, when they took one
  promote_due(k.delayed, k.wait, a.job_prefix, t)
  -- one pop for all of them; an entry that gives nothing (stale, or a missing record) is replaced by the next in line
  local popped = redis.call('ZPOPMIN', k.wait, #asking)
  local p, line_empty = 1, false
  local leases = {}
  for _, ask in ipairs(asking) do
    local j, holder = ask[1], ask[2]
    for _ = 1, 16 do
      local id
      if p < #popped then
        id = popped[p]
        p = p + 2
      elseif not line_empty then
        local one = redis.call('ZPOPMIN', k.wait, 1)
        if #one == 0 then line_empty = true else id = one[1] end
      end
      if not id then break end
      leases[holder] = leases[holder] or new_lease(holder, tonumber(ARGV[9]), t)
      local claimed = claim_popped(k, a, id, leases[holder])
      if claimed then
        out[j][3] = claimed
        break
      end
    end
  end
  if redis.call('ZCARD', k.wait) > 0 then redis.call('ZADD', k.marker, 0, '0') end
end
return out
