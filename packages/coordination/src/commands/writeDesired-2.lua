--[[
  Writes a sidecar's desired state, fenced twice in one atomic step (single Redis or Sentinel):
  1. by the current leader epoch: only a state carrying exactly the epoch of the latest election is accepted,
     so a deposed leader is refused even for a sidecar the new leader has not written yet;
  2. by the (epoch, generation) already stored for the sidecar (see includes/storeDesired.lua).
  A stored epoch above the leader epoch counter was handed out by no election (the counter only grows, and
  every legitimate state is written under the counter's value): it was written straight into Redis. It is
  overwritten, never obeyed, and the reply says so.

  KEYS[1] desired-state hash of the sidecar      KEYS[2] leader epoch counter
  ARGV[1] epoch   ARGV[2] generation   ARGV[3] notify channel   ARGV[4] notify message
  ARGV[5] TTL of the hash in ms (0: none)
  ARGV[6], ARGV[7] unused here (the Cluster script's proven-forged token); kept so both scripts share a layout
  ARGV[8..] field/value pairs of the encoded state

  Returns { status, epoch, generation, replacedForged }: status 'not-leader-epoch' with the current leader
  epoch, or a result of storeDesired.
]]
-- @include storeDesired

local epoch = tonumber(ARGV[1])
local generation = tonumber(ARGV[2])
local leaderEpoch = tonumber(redis.call('GET', KEYS[2]) or '0')
if leaderEpoch == nil then
  return redis.error_reply('ERR leader epoch counter ' .. KEYS[2] .. ' is not a number')
end
if epoch ~= leaderEpoch then
  return { 'not-leader-epoch', leaderEpoch, -1, 0 }
end
local function forged(storedEpoch)
  return storedEpoch > leaderEpoch
end
return storeDesired(KEYS[1], epoch, generation, ARGV[3], ARGV[4], tonumber(ARGV[5]), forged, 8)
