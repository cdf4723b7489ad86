--[[
  Writes a sidecar's desired state on Redis Cluster, fenced by the (epoch, generation) already stored for the
  sidecar (see includes/storeDesired.lua). The leader epoch counter lives in another hash slot and cannot be
  read here; on Cluster the sidecar checks the epoch against the counter when it reads (see README, "Fencing").

  A forged state (an epoch above the counter) cannot be recognised here. The caller proves it outside (the
  stored epoch is above the counter read after the refusal) and passes that exact token; only a hash still
  holding that token is overwritten, so a state a real leader wrote meanwhile is never replaced.

  KEYS[1] desired-state hash of the sidecar
  ARGV[1] epoch   ARGV[2] generation   ARGV[3] notify channel   ARGV[4] notify message
  ARGV[5] TTL of the hash in ms (0: none)
  ARGV[6], ARGV[7] the stored token proven forged (-1 -1: none)
  ARGV[8..] field/value pairs of the encoded state
]]
-- @include storeDesired

local forgedEpoch = tonumber(ARGV[6])
local forgedGeneration = tonumber(ARGV[7])
local function forged(storedEpoch, storedGeneration)
  return forgedEpoch >= 0 and storedEpoch == forgedEpoch and storedGeneration == forgedGeneration
end
return storeDesired(KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3], ARGV[4], tonumber(ARGV[5]), forged, 8)
