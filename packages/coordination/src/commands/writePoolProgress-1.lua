--[[
  Stores what the tracker fetched about a pool unless the hash holds something newer: a record from an older
  leader epoch, or from the same epoch but fetched earlier, is refused, so a deposed or delayed tracker cannot
  roll the shared pool height back.

  KEYS[1] pool-progress hash
  ARGV[1] epoch   ARGV[2] fetchedAt (epoch ms)   ARGV[3] expiry in ms (0: none)
  ARGV[4..] field/value pairs of the encoded record

  Returns { status, storedEpoch, storedFetchedAt } with status 'written', 'stale-epoch' or 'stale-fetch'.
]]
local stored = redis.call('HMGET', KEYS[1], 'epoch', 'fetchedAt')
local storedEpoch = tonumber(stored[1])
local storedFetchedAt = tonumber(stored[2])
local epoch = tonumber(ARGV[1])
local fetchedAt = tonumber(ARGV[2])
if storedEpoch ~= nil and storedFetchedAt ~= nil then
  if epoch < storedEpoch then
    return { 'stale-epoch', storedEpoch, storedFetchedAt }
  end
  if epoch == storedEpoch and fetchedAt < storedFetchedAt then
    return { 'stale-fetch', storedEpoch, storedFetchedAt }
  end
end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], unpack(ARGV, 4))
local ttl = tonumber(ARGV[3])
if ttl and ttl > 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
end
return { 'written', storedEpoch or -1, storedFetchedAt or -1 }
