-- Store a new ticket and its time to live in one step; optionally count a rate limit
-- first and store nothing past it.
-- KEYS[1] ticket hash; KEYS[2] (optional) the limit's window counter
-- ARGV[1] TTL in ms; ARGV[2] the fields as one JSON object of strings (one argument
-- instead of 32); ARGV[3] counter expiry in s, ARGV[4] the limit (with KEYS[2])
local count = 0
if KEYS[2] then
  count = redis.call('INCR', KEYS[2])
  if count == 1 then redis.call('EXPIRE', KEYS[2], ARGV[3]) end
  if count > tonumber(ARGV[4]) then return count end
end
local flat = {}
for field, value in pairs(cjson.decode(ARGV[2])) do
  flat[#flat + 1] = field
  flat[#flat + 1] = value
end
redis.call('HSET', KEYS[1], unpack(flat))
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return count
