#!/usr/bin/env bash
# Make sure the RabbitMQ and Redis the tests use are up; start them if installed but stopped.
set -euo pipefail

redis_up() { redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; }
rabbit_up() { (exec 3<>/dev/tcp/127.0.0.1/5672) 2>/dev/null; }

# RabbitMQ stops accepting connections once its file handles run out (new connections wait
# in its file_handle_cache for good), and Debian's wrapper starts it through su, which resets
# the limit to 1024; a test run's queues and connections reach that. As root, start the
# server as its own user with the hard limit instead.
start_rabbit() {
  local server=/usr/lib/rabbitmq/bin/rabbitmq-server
  if [ "$(id -u)" = 0 ] && [ -x "$server" ] && id rabbitmq >/dev/null 2>&1 \
     && command -v setpriv >/dev/null; then
    ulimit -n "$(ulimit -Hn)"
    (cd /var/lib/rabbitmq && HOME=/var/lib/rabbitmq \
      setpriv --reuid rabbitmq --regid rabbitmq --init-groups "$server" -detached)
  else
    rabbitmq-server -detached
  fi
}

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
    start_rabbit
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
