--[[
  Takes the leader lease if nobody holds it, and hands out a new leader epoch in the same atomic step.

  KEYS[1] leader lease (string, PX)        KEYS[2] leader epoch counter (string, no TTL)
  ARGV[1] token of the candidate           ARGV[2] lease in ms
  ARGV[3] epoch floor: the new epoch is at least floor + 1 (recovers monotonicity after Redis lost its data)

  Returns the new epoch, or nil when the lease is held by someone else.
]]
local current = redis.call('GET', KEYS[2])
if current and not tonumber(current) then
  return redis.error_reply('ERR leader epoch counter ' .. KEYS[2] .. ' is not a number')
end
if not redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return nil
end
local epoch = redis.call('INCR', KEYS[2])
local floor = tonumber(ARGV[3])
if floor and epoch <= floor then
  epoch = floor + 1
  -- %d: a plain Lua number would be written as 1.7e+15 once it has more than 14 digits.
  redis.call('SET', KEYS[2], string.format('%d', epoch))
end
return epoch
