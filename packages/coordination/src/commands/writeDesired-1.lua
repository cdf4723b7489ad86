--[[
  Writes a sidecar's desired state on Redis Cluster, fenced by the (epoch, generation) already stored for the
  sidecar (see includes/storeDesired.lua). The leader epoch counter lives in another hash slot and cannot be
  read here; on Cluster the sidecar checks the epoch against the counter when it reads (see README, "Fencing").

  KEYS[1] desired-state hash of the sidecar
  ARGV[1] epoch   ARGV[2] generation   ARGV[3] notify channel   ARGV[4] notify message
  ARGV[5..] field/value pairs of the encoded state
]]
-- @include storeDesired

return storeDesired(KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3], ARGV[4], 5)
