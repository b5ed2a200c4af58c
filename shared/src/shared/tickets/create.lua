-- Store a new ticket and its time to live in one step (one key: Cluster-safe).
-- KEYS[1] ticket hash; ARGV[1] TTL in ms; ARGV[2..] field, value pairs
redis.call('HSET', KEYS[1], unpack(ARGV, 2))
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return 1
