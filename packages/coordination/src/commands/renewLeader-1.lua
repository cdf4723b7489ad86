--[[
  Extends the leader lease, only if it still holds our token (compare-and-set).

  KEYS[1] leader lease      ARGV[1] token      ARGV[2] lease in ms
  Returns 1 when renewed, 0 when the lease expired or belongs to another candidate.
]]
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
