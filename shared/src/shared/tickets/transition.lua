-- Atomically move a ticket from one of the allowed states to a new one.
-- KEYS[1] ticket hash
-- ARGV[1] now (seconds, from the caller's injected clock)
-- ARGV[2] allowed source states, comma-wrapped: ",pending,scanned,"
-- ARGV[3] target state
-- ARGV[4] required scanner openid, or "" for no check
-- ARGV[5..] field, value pairs to set with the transition
local cur = redis.call('HMGET', KEYS[1], 'status', 'expires_at', 'scanner_openid', 'version')
local status = cur[1]
if not status then return {'err', 'ticket_not_found', ''} end
local now = tonumber(ARGV[1])
local expirable = (status == 'pending' or status == 'scanned')
local lapsed = expirable and now >= tonumber(cur[2])
local target = ARGV[3]
if target == 'expired' then
  if not lapsed then return {'err', 'illegal_transition', status} end
elseif lapsed then
  return {'err', 'ticket_expired', 'expired'}
end
if not string.find(ARGV[2], ',' .. status .. ',', 1, true) then
  return {'err', 'illegal_transition', status}
end
if ARGV[4] ~= '' and cur[3] ~= ARGV[4] then return {'err', 'not_scanner', status} end
local version = tonumber(cur[4]) + 1
redis.call('HSET', KEYS[1], 'status', target, 'version', version)
if #ARGV > 4 then redis.call('HSET', KEYS[1], unpack(ARGV, 5)) end
return redis.call('HGETALL', KEYS[1])
