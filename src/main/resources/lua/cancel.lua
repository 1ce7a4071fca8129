-- Cancels a job. Queued: removed at once. Running: flagged and its holder told on the cancel channel.
-- KEYS: wait, delayed, active, dead, outcomes, stats
-- ARGV: job_prefix, img_prefix, channel, cancel_channel, id, retention_ms, events_max, dead_retention_ms, dead_max,
--       image_retention_ms
local k = {wait = KEYS[1], delayed = KEYS[2], active = KEYS[3], dead = KEYS[4], events = KEYS[5], stats = KEYS[6]}
local a = {job_prefix = ARGV[1], img_prefix = ARGV[2], channel = ARGV[3], retention = tonumber(ARGV[6]),
  events_max = tonumber(ARGV[7]), dead_retention = tonumber(ARGV[8]), dead_max = tonumber(ARGV[9]),
  image_retention = tonumber(ARGV[10])}
local id = ARGV[5]
local jk = a.job_prefix .. id
local state = redis.call('HGET', jk, 'state')
if not state then return {'missing'} end
local now = now_ms()
if state == 'queued' then
  finish(k, a, id, 'cancelled', now, 'cancelled', 'Cancelled before it started')
  return {'cancelled'}
elseif state == 'running' then
  redis.call('HSET', jk, 'cancel_requested', '1', 'updated_at', now)
  redis.call('PUBLISH', ARGV[4], id)
  publish(a.channel, {id = id, type = 'cancel_requested', state = 'running', at = now})
  return {'requested'}
end
return {state}
