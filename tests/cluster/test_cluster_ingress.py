"""The cluster's nginx runs deploy/nginx/minilogin.conf itself: only the upstream addresses,
the listen ports and TLS differ, so every route a test sends through it is the deployed one."""

from __future__ import annotations

import re

from cluster.ingress import DEPLOYED, UPSTREAMS, IngressPorts, local_ingress

PORTS = IngressPorts(http=21001, health=21002, amqp=21003)
REPLICAS = {service: [22000 + i, 23000 + i] for i, service in enumerate(UPSTREAMS.values())}


def _locations(conf: str) -> list[str]:
    return re.findall(r"(?m)^\s*location [^{]+\{[^}]*\}", conf)


def test_every_deployed_route_is_kept_and_each_upstream_names_both_replicas() -> None:
    deployed = DEPLOYED.read_text()
    local = local_ingress(deployed, REPLICAS, PORTS)
    assert _locations(local) == _locations(deployed)
    for upstream, service in UPSTREAMS.items():
        body = re.search(rf"upstream {upstream} \{{([^}}]*)\}}", local)
        assert body is not None
        servers = re.findall(r"server 127\.0\.0\.1:(\d+)", body.group(1))
        assert [int(p) for p in servers] == REPLICAS[service]


def test_the_local_origin_is_plain_http_on_loopback_without_docker_dns() -> None:
    local = re.sub(r"#[^\n]*", "", local_ingress(DEPLOYED.read_text(), REPLICAS, PORTS))
    assert "listen 127.0.0.1:21001;" in local
    assert "listen 127.0.0.1:21002;" in local
    assert not re.search(r"(?m)^\s*(resolver|ssl_|http2|listen 8443|listen 8080)", local)
    assert " resolve;" not in local
