"""nginx in front of the cluster: deploy/nginx/minilogin.conf made local, and a TCP balancer
for the three RabbitMQ nodes.

The ingress is the deployed configuration itself, with only what differs on one machine
changed: the replicas' loopback addresses instead of names resolved by Docker's DNS (and no
`resolve`, which Debian's nginx 1.22 lacks), plain HTTP on a free port instead of TLS on 8443.
Every route, header, body limit and timeout is the deployed one.

aio-pika takes one broker address, so the services reach the RabbitMQ cluster through one
port: nginx's stream module passes each connection to a live node, and a client whose node
died reconnects through it to another."""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from cluster.procs import ClusterError, Proc

REPO = Path(__file__).resolve().parents[1]
DEPLOYED = REPO / "deploy" / "nginx" / "minilogin.conf"
STREAM_MODULE = "/usr/lib/nginx/modules/ngx_stream_module.so"
# The upstream names in minilogin.conf and the service each one stands for.
UPSTREAMS = {
    "qr_issuer": "qr-issuer",
    "scan_gateway": "scan-gateway",
    "account": "account",
    "notifier": "notifier",
}


@dataclass(frozen=True)
class IngressPorts:
    http: int  # the public origin (the deployment's 8443)
    health: int  # the deployment's 8080: /nginx-health
    amqp: int  # the RabbitMQ balancer


def local_ingress(deployed: str, replicas: dict[str, list[int]], ports: IngressPorts) -> str:
    """minilogin.conf with each upstream's server replaced by the service's replicas."""
    text = re.sub(r"(?m)^resolver .*;\n", "", deployed)

    def upstream(m: re.Match[str]) -> str:
        service = UPSTREAMS[m.group(1)]
        servers = "".join(
            f"    server 127.0.0.1:{p} max_fails=1 fail_timeout=2s;\n" for p in replicas[service]
        )
        body = re.sub(r"(?m)^\s*server \S+ resolve;\n", servers, m.group(2))
        return f"upstream {m.group(1)} {{{body}}}"

    text, count = re.subn(r"upstream (\w+) \{(.*?)\}", upstream, text, flags=re.S)
    if count != len(UPSTREAMS):
        raise ClusterError(f"{DEPLOYED.name}: expected {len(UPSTREAMS)} upstreams, found {count}")
    text = text.replace("listen 8080;", f"listen 127.0.0.1:{ports.health};")
    text = text.replace("listen 8443 ssl;", f"listen 127.0.0.1:{ports.http};")
    text = re.sub(r"(?m)^\s*(http2 on|ssl_\w+ .*);\n", "", text)
    if f"listen 127.0.0.1:{ports.http};" not in text or re.search(
        r"(?m)^\s*(listen 8443|ssl_)", text
    ):
        raise ClusterError(f"{DEPLOYED.name} changed shape: update cluster/ingress.py")
    return text


def nginx_conf(prefix: Path, site: str, rabbit_ports: list[int], amqp_port: int) -> str:
    temp = "\n".join(
        f"    {kind}_temp_path {prefix / 'temp' / kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    # A node that refused a connection is skipped for a second, no longer: the services dial
    # again every second, and after a whole-broker outage a longer mark (5 s, before) kept
    # them off the nodes that had come back for up to that long.
    nodes = "".join(
        f"        server 127.0.0.1:{p} max_fails=1 fail_timeout=1s;\n" for p in rabbit_ports
    )
    return f"""load_module {STREAM_MODULE};
worker_processes 1;
pid {prefix / "nginx.pid"};
error_log {prefix / "error.log"} warn;
events {{ worker_connections 4096; }}

http {{
    access_log off;
    default_type application/octet-stream;
{temp}
{site}
}}

stream {{
    upstream rabbitmq {{
{nodes}    }}
    server {{
        listen 127.0.0.1:{amqp_port};
        proxy_pass rabbitmq;
        proxy_connect_timeout 1s;
    }}
}}
"""


def plan_nginx(
    prefix: Path, replicas: dict[str, list[int]], rabbit_ports: list[int], ports: IngressPorts
) -> Proc:
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(nginx).exists() or not Path(STREAM_MODULE).exists():
        raise ClusterError("nginx is missing: run scripts/ensure-nginx.sh")
    for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (prefix / "temp" / kind).mkdir(parents=True, exist_ok=True)
    site = local_ingress(DEPLOYED.read_text(), replicas, ports)
    conf = prefix / "nginx.conf"
    conf.write_text(nginx_conf(prefix, site, rabbit_ports, ports.amqp))
    argv = [
        nginx,
        "-p",
        str(prefix),
        "-e",
        str(prefix / "error.log"),
        "-c",
        str(conf),
        "-g",
        "daemon off;",
    ]
    return Proc("nginx", argv, str(prefix / "nginx.log"))
