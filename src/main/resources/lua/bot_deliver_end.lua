-- After a result was sent (or could never be): marks the job delivered, so no instance ever sends it again.
-- KEYS: job   ARGV: how (sent | blocked | gone | ...)
local jk = KEYS[1]
if redis.call('EXISTS', jk) == 0 then return 0 end
redis.call('HSET', jk, 'tg_delivered', now_ms() .. '|' .. ARGV[1])
redis.call('HDEL', jk, 'tg_sending')
return 1
