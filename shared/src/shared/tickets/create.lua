-- Store a new ticket and its time to live, and append its event to the outbox stream, in
-- one step; optionally count a rate limit first and store nothing past it.
-- KEYS[1] ticket hash; KEYS[2] its outbox stream (same hash tag); KEYS[3] (optional) the
-- limit's window counter (never on a Cluster: another slot)
-- ARGV[1] TTL in ms; ARGV[2] the fields as one JSON object of strings (one argument
-- instead of 32); ARGV[3] the event's type, ARGV[4] its JSON; ARGV[5] counter expiry in
-- s, ARGV[6] the limit (with KEYS[3])
local count = 0
if KEYS[3] then
  count = redis.call('INCR', KEYS[3])
  if count == 1 then redis.call('EXPIRE', KEYS[3], ARGV[5]) end
  if count > tonumber(ARGV[6]) then return count end
end
local flat = {}
for field, value in pairs(cjson.decode(ARGV[2])) do
  flat[#flat + 1] = field
  flat[#flat + 1] = value
end
redis.call('HSET', KEYS[1], unpack(flat))
redis.call('PEXPIRE', KEYS[1], ARGV[1])
redis.call('XADD', KEYS[2], '*', 'type', ARGV[3], 'body', ARGV[4])
return count
