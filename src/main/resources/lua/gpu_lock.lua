-- A lease lock with an owner and a time-to-live: a GPU's, and the bot's active instance. KEYS: lock   ARGV: op (acquire|renew|release), token, ttl_ms
-- acquire: take it when free, or renew it when ours. renew: extend only when ours. release: delete only when ours.
-- Returns 1 when the caller holds (or, for release, no longer holds) the lock, 0 otherwise, plus the current owner.
local owner = redis.call('GET', KEYS[1])
local op, token = ARGV[1], ARGV[2]
if op == 'release' then
  if owner == token then redis.call('DEL', KEYS[1]) return {1, ''} end
  return {0, owner or ''}
end
if owner == token or (op == 'acquire' and not owner) then
  redis.call('SET', KEYS[1], token, 'PX', tonumber(ARGV[3]))
  return {1, token}
end
return {0, owner or ''}
