#!/usr/bin/env bash
# The local cluster (make cluster-up) runs Debian's nginx as its own process: the ingress in
# front of the service replicas and a TCP balancer in front of the three RabbitMQ nodes
# (the stream module). Install both when missing, at bookworm's 1.22.1 (any security update).
set -euo pipefail
VERSION='1.22.1-9+deb12u*'
have_stream() { ls /usr/lib/nginx/modules/ngx_stream_module.so >/dev/null 2>&1; }
if command -v nginx >/dev/null && have_stream; then exit 0; fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "installing Debian's nginx-light and its stream module"
  apt-get update -qq
  # The package's own service is never used (the cluster starts nginx with its own prefix).
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
    "nginx-light=$VERSION" "libnginx-mod-stream=$VERSION" >/dev/null
else
  echo "nginx is missing: install Debian's nginx-light and libnginx-mod-stream" >&2
  exit 1
fi
