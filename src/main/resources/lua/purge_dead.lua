-- Deletes dead-lettered jobs for good: their records, images and idempotency keys; at most ARGV[4] per call.
-- A job retried meanwhile is no longer in the dead set, so it is never touched.
-- KEYS: dead   ARGV: job_prefix, img_prefix, idem_prefix, limit
-- Returns {purged, looked_at}; the caller repeats while looked_at > 0.
local ids = redis.call('ZRANGE', KEYS[1], 0, tonumber(ARGV[4]) - 1)
local purged = 0
for _, id in ipairs(ids) do
  redis.call('ZREM', KEYS[1], id)
  local jk = ARGV[1] .. id
  local cur = redis.call('HMGET', jk, 'state', 'input', 'result', 'idem')
  if cur[1] == 'dead' or not cur[1] then
    if cur[2] then redis.call('DEL', ARGV[2] .. cur[2]) end
    if cur[3] then redis.call('DEL', ARGV[2] .. cur[3]) end
    if cur[4] and redis.call('GET', ARGV[3] .. cur[4]) == id then redis.call('DEL', ARGV[3] .. cur[4]) end
    redis.call('DEL', jk)
    purged = purged + 1
  end
end
return {purged, #ids}
