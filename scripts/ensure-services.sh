#!/usr/bin/env bash
# Make sure the RabbitMQ and Redis the tests use are up; start them if installed but stopped.
set -euo pipefail

redis_up() { redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; }
rabbit_up() { (exec 3<>/dev/tcp/127.0.0.1/5672) 2>/dev/null; }

if ! redis_up; then
  if command -v redis-server >/dev/null; then
    echo "starting redis-server"
    redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no
  else
    echo "Redis is not running on 127.0.0.1:6379 and redis-server is not installed" >&2; exit 1
  fi
fi
if ! rabbit_up; then
  if command -v rabbitmq-server >/dev/null; then
    echo "starting rabbitmq-server"
    rabbitmq-server -detached
  else
    echo "RabbitMQ is not running on 127.0.0.1:5672 and rabbitmq-server is not installed" >&2; exit 1
  fi
fi
for _ in $(seq 1 120); do
  if redis_up && rabbit_up; then exit 0; fi
  sleep 0.5
done
echo "RabbitMQ or Redis did not come up within 60 s" >&2
exit 1
