--[[
  Stores a desired state unless the hash already holds the same or a newer one, then wakes the sidecar.

  The fencing token is (epoch, generation), compared in that order: a state from an older epoch, or from the
  same epoch with a lower generation, is refused, so a deposed or delayed writer cannot overwrite what a newer
  one wrote. Writing the same (epoch, generation) again is idempotent: 'duplicate' when every field is equal,
  'conflict' when the content differs (a writer bug: one generation must mean one state).
  A stored hash whose epoch or generation is not a number (corrupted by hand) does not block the fleet: it is
  replaced. So is a stored token the caller proved forged (`forged(storedEpoch, storedGeneration)` is true: an
  epoch no election handed out); the reply then says so, for the tracker to count and log.

  key          the desired-state hash
  epoch, generation   the token of the state being written (numbers)
  channel, note       PUBLISH target and message (the message is only a hint)
  ttl          PEXPIRE of the hash in ms after a write (0: none)
  forged       function(storedEpoch, storedGeneration) -> boolean
  first        index in ARGV where the field/value pairs of the encoded state begin

  Returns { status, storedEpoch, storedGeneration, replacedForged } (-1 for "nothing stored"; replacedForged is
  1 when a forged state was overwritten, else 0).
]]
local function storeDesired(key, epoch, generation, channel, note, ttl, forged, first)
  local stored = redis.call('HMGET', key, 'epoch', 'generation')
  local storedEpoch = tonumber(stored[1])
  local storedGeneration = tonumber(stored[2])
  local replacedForged = 0
  if storedEpoch ~= nil and storedGeneration ~= nil and forged(storedEpoch, storedGeneration) then
    replacedForged = 1
  elseif storedEpoch ~= nil and storedGeneration ~= nil then
    if epoch < storedEpoch then
      return { 'stale-epoch', storedEpoch, storedGeneration, 0 }
    end
    if epoch == storedEpoch and generation < storedGeneration then
      return { 'stale-generation', storedEpoch, storedGeneration, 0 }
    end
    if epoch == storedEpoch and generation == storedGeneration then
      local current = redis.call('HGETALL', key)
      local same = #current == #ARGV - first + 1
      if same then
        local fields = {}
        for i = 1, #current, 2 do
          fields[current[i]] = current[i + 1]
        end
        for i = first, #ARGV, 2 do
          if fields[ARGV[i]] ~= ARGV[i + 1] then
            same = false
            break
          end
        end
      end
      if same then
        return { 'duplicate', storedEpoch, storedGeneration, 0 }
      end
      return { 'conflict', storedEpoch, storedGeneration, 0 }
    end
  end
  -- DEL first: a field the new state does not have (a signature, an optional field) must not survive.
  redis.call('DEL', key)
  redis.call('HSET', key, unpack(ARGV, first))
  if ttl > 0 then
    redis.call('PEXPIRE', key, ttl)
  end
  redis.call('PUBLISH', channel, note)
  return { 'written', storedEpoch or -1, storedGeneration or -1, replacedForged }
end
