--[[
  Stores a desired state unless the hash already holds the same or a newer one, then wakes the sidecar.

  The fencing token is (epoch, generation), compared in that order: a state from an older epoch, or from the
  same epoch with a lower generation, is refused, so a deposed or delayed writer cannot overwrite what a newer
  one wrote. Writing the same (epoch, generation) again is idempotent: 'duplicate' when every field is equal,
  'conflict' when the content differs (a writer bug: one generation must mean one state).
  A stored hash whose epoch or generation is not a number (corrupted by hand) does not block the fleet: it is
  replaced.

  key          the desired-state hash
  epoch, generation   the token of the state being written (numbers)
  channel, note       PUBLISH target and message (the message is only a hint)
  first        index in ARGV where the field/value pairs of the encoded state begin

  Returns { status, storedEpoch, storedGeneration } (-1 for "nothing stored").
]]
local function storeDesired(key, epoch, generation, channel, note, first)
  local stored = redis.call('HMGET', key, 'epoch', 'generation')
  local storedEpoch = tonumber(stored[1])
  local storedGeneration = tonumber(stored[2])
  if storedEpoch ~= nil and storedGeneration ~= nil then
    if epoch < storedEpoch then
      return { 'stale-epoch', storedEpoch, storedGeneration }
    end
    if epoch == storedEpoch and generation < storedGeneration then
      return { 'stale-generation', storedEpoch, storedGeneration }
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
        return { 'duplicate', storedEpoch, storedGeneration }
      end
      return { 'conflict', storedEpoch, storedGeneration }
    end
  end
  -- DEL first: a field the new state does not have (a signature, an optional field) must not survive.
  redis.call('DEL', key)
  redis.call('HSET', key, unpack(ARGV, first))
  redis.call('PUBLISH', channel, note)
  return { 'written', storedEpoch or -1, storedGeneration or -1 }
end
