-- Cancels a job. Queued: removed at once. Running: flagged and its holder told on the cancel channel.
-- KEYS, ARGV[1..8]: queue_context (lib.lua)   ARGV[9..]: cancel_channel, id
local k, a = queue_context()
local id = ARGV[10]
local jk = a.job_prefix .. id
local state = redis.call('HGET', jk, 'state')
if not state then return {'missing'} end
local now = now_ms()
if state == 'queued' then
  finish(k, a, id, 'cancelled', now, 'cancelled', 'Cancelled before it started')
  return {'cancelled'}
elseif state == 'running' then
  redis.call('HSET', jk, 'cancel_requested', '1', 'updated_at', now)
  redis.call('PUBLISH', ARGV[9], id)
  publish(a.channel, {id = id, type = 'cancel_requested', state = 'running', at = now})
  return {'requested'}
end
return {state}
