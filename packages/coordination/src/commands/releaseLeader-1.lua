--[[
  Gives the leader lease up on a clean shutdown, only if it still holds our token (compare-and-delete), so a
  leader that was already replaced cannot delete its successor's lease.

  KEYS[1] leader lease      ARGV[1] token
  Returns 1 when released, 0 when the lease was not ours (any more).
]]
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
