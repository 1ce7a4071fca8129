-- Before a result is sent to Telegram: may this instance send it? Marks are fields of the job record itself, so
-- they live in the job's slot and expire with it.
-- KEYS: job   ARGV: owner, lease_ms
-- Returns 'missing' (the job expired), 'done' (already delivered), 'busy' (another live instance is sending it) or 'go'.
local jk = KEYS[1]
if redis.call('EXISTS', jk) == 0 then return 'missing' end
if redis.call('HEXISTS', jk, 'tg_delivered') == 1 then return 'done' end
local now = now_ms()
local sending = redis.call('HGET', jk, 'tg_sending')
if sending then
  local sep = string.find(sending, '|', 1, true)
  local owner = string.sub(sending, 1, sep - 1)
  local until_ms = tonumber(string.sub(sending, sep + 1))
  if owner ~= ARGV[1] and until_ms and until_ms > now then return 'busy' end
end
redis.call('HSET', jk, 'tg_sending', ARGV[1] .. '|' .. (now + tonumber(ARGV[2])))
return 'go'
