-- Atomically move a ticket from one of the allowed states to a new one, and append the
-- move's event to the outbox stream in the same step (the relay publishes it).
-- KEYS[1] ticket hash; KEYS[2] its outbox stream (same hash tag: one Cluster slot)
-- ARGV[1] now (seconds, from the caller's injected clock)
-- ARGV[2] allowed source states, comma-wrapped: ",pending,scanned,"
-- ARGV[3] target state
-- ARGV[4] required scanner openid, or "" for no check
-- ARGV[5] the event's type ("": no event, a change nobody is told of); ARGV[6] n, the count of the event's template parts;
-- ARGV[7..6+n] the event's JSON as text, field, text, ..., text: each field is replaced by
-- the ticket's value of it (as a JSON string) once the move is made
-- ARGV[7+n..] field, value pairs to set with the transition
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
local parts = tonumber(ARGV[6])
local first_change = 7 + parts
if #ARGV >= first_change then redis.call('HSET', KEYS[1], unpack(ARGV, first_change)) end
if ARGV[5] ~= '' then
  local body = {}
  for i = 7, 6 + parts do
    if (i - 7) % 2 == 0 then
      body[#body + 1] = ARGV[i]
    else
      body[#body + 1] = cjson.encode(redis.call('HGET', KEYS[1], ARGV[i]) or '')
    end
  end
  redis.call('XADD', KEYS[2], '*', 'type', ARGV[5], 'body', table.concat(body))
end
return redis.call('HGETALL', KEYS[1])
