"""deploy/ holds what the operator runs: every YAML parses, the environment example and the
Kubernetes config name every variable the services read, each service is given exactly the
secrets its settings class declares (compose and Kubernetes), and both ingresses (nginx for
docker-compose, the Kubernetes Ingress) send every public route to the service that serves it
and no /internal/ route anywhere. Nothing here starts a container or talks to a cluster."""

from __future__ import annotations

import re
import secrets
from pathlib import Path
from typing import Any

import pytest
import yaml
from cryptography.fernet import Fernet
from docs_support import ROOT, SERVICES

from devstack.settings import SERVICE_SETTINGS
from shared import settings as settings_module
from shared.settings import (
    SECRET_FILE,
    InvalidSettings,
    ServiceSettings,
    secret_variables,
    variables,
)

DEPLOY = ROOT / "deploy"
K8S = DEPLOY / "k8s"
ENV_EXAMPLE = DEPLOY / "minilogin.env.example"
NGINX_CONF = DEPLOY / "nginx" / "minilogin.conf"
SAMPLE_PARAMS = {"ticket": "A" * 22, "name": "login.js"}


def yaml_files() -> list[Path]:
    return sorted(p for p in DEPLOY.rglob("*") if p.suffix in (".yml", ".yaml"))


def load_all(path: Path) -> list[Any]:
    return [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if d is not None]


def k8s_objects() -> list[dict[str, Any]]:
    return [
        doc
        for path in sorted(K8S.glob("*.yaml"))
        for doc in load_all(path)
        if doc.get("kind") != "Kustomization"
    ]


def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())
    return loaded


def sample(path: str) -> str:
    """A concrete request path for a route template."""
    return re.sub(r"\{(\w+)\}", lambda m: SAMPLE_PARAMS.get(m.group(1), "x1"), path)


def all_names(cls: type[ServiceSettings]) -> set[str]:
    """Every name of every variable a settings class reads (aliases too)."""
    return {n for field in cls.model_fields for n in settings_module.env_names(cls, field)}


def settings_variables() -> set[str]:
    """Every environment variable a service reads, every name of it, from their settings."""
    return {n for cls in SERVICE_SETTINGS.values() for n in all_names(cls)}


def secret_files(cls: type[ServiceSettings]) -> set[str]:
    """The variables of a class that name a file holding a secret (a private key)."""
    return {v for v, f in variables(cls).items() if SECRET_FILE in cls.model_fields[f].metadata}


# Every variable that carries a secret or names a secret file, whichever service reads it
# (by its first name: ML_MONGO_URL, MONGO_URL's alias, is left out).
ALL_SECRETS = {v for cls in SERVICE_SETTINGS.values() for v in secret_variables(cls)}
ALL_SECRET_FILES = {v for cls in SERVICE_SETTINGS.values() for v in secret_files(cls)}


# --- YAML ----------------------------------------------------------------------------


@pytest.mark.parametrize("path", yaml_files(), ids=lambda p: str(p.relative_to(DEPLOY)))
def test_every_yaml_in_deploy_parses(path: Path) -> None:
    docs = load_all(path)
    assert docs, f"{path} is empty"
    assert all(isinstance(d, dict) for d in docs)


def test_the_manifests_and_compose_file_are_there() -> None:
    names = {str(p.relative_to(DEPLOY)) for p in yaml_files()}
    assert "docker-compose.yml" in names
    kinds = {d["kind"] for d in k8s_objects()}
    assert {
        "Namespace",
        "ConfigMap",
        "Secret",
        "Deployment",
        "Service",
        "PodDisruptionBudget",
        "HorizontalPodAutoscaler",
        "Ingress",
    } <= kinds
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    assert set(kustomization["resources"]) == {p.name for p in K8S.glob("*.yaml")} - {
        "kustomization.yaml"
    }


# --- Environment ---------------------------------------------------------------------


def env_example_names() -> dict[str, str]:
    out = {}
    for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines():
        m = re.match(r"^#?\s*([A-Z][A-Z0-9_]*)=(.*)$", line)
        if m:
            out[m.group(1)] = m.group(2)
    return out


def test_env_example_names_every_variable_the_services_read() -> None:
    names = env_example_names()
    read = settings_variables()
    assert read - set(names) == set(), "missing from deploy/minilogin.env.example"
    stray = {n for n in names if n.startswith("ML_")} - read
    assert stray == set(), "ML_* names the services do not read"


def test_env_example_is_production_safe() -> None:
    text = ENV_EXAMPLE.read_text(encoding="utf-8")
    names = env_example_names()
    for dev_value in (
        settings_module.DEV_SECRET_KEY,
        settings_module.DEV_WX_APPID,
        settings_module.DEV_WX_SECRET,
        settings_module.DEV_ADMIN_TOKEN,
    ):
        assert dev_value not in text
    assert names["ML_COOKIE_SECURE"] == "1"
    assert int(names["ML_TRUSTED_PROXY_HOPS"]) >= 1
    assert names["ML_PUBLIC_URL"].startswith("https://")
    assert names["ML_JWT_PRIVATE_KEY_FILE"]
    for secret in ("ML_SECRET_KEY", "ML_ADMIN_TOKEN", "ML_WX_SECRET"):
        assert "CHANGE-ME" in names[secret]
    assert "Fernet.generate_key()" in text


def env_example_values() -> dict[str, str]:
    """The variables the example sets (commented-out ones left out)."""
    return {n: v for n, v in env_example_names().items() if f"\n{n}=" in ENV_EXAMPLE.read_text()}


def placeholders() -> dict[str, str]:
    """The example's values an operator must replace: CHANGE-ME and the placeholders."""
    public = set(settings_module.PUBLIC_VALUES)
    return {
        n: v
        for n, v in env_example_values().items()
        if n in settings_variables() and ("CHANGE-ME" in v or v in public)
    }


def filled_in() -> dict[str, str]:
    """The example as an operator fills it in: real values for every placeholder."""
    real = {
        "ML_SECRET_KEY": Fernet.generate_key().decode(),
        "ML_ADMIN_TOKEN": secrets.token_hex(32),
        "ML_WX_SECRET": secrets.token_hex(16),
        "ML_WX_APPID": "wx" + secrets.token_hex(8),
        "ML_PUBLIC_URL": "https://login.corp.example",
    }
    return env_example_values() | {
        n: real.get(n) or re.sub(r"CHANGE-ME[\w-]*", secrets.token_hex(12), v)
        for n, v in placeholders().items()
    }


def test_env_example_marks_every_secret_it_needs_replaced() -> None:
    assert {
        "ML_SECRET_KEY", "ML_ADMIN_TOKEN", "ML_WX_SECRET", "ML_WX_APPID", "ML_PUBLIC_URL",
        "ML_REDIS_URL", "ML_AMQP_URL", "MONGO_URL",
    } <= set(placeholders())  # fmt: skip


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_every_placeholder_in_the_env_example_is_refused(service: str) -> None:
    cls = SERVICE_SETTINGS[service]
    assert env_example_values()["ML_ENV"] == "production"
    cls.from_env(filled_in())  # filled in, the example starts every service
    for var, value in placeholders().items():
        if var not in all_names(cls):
            continue
        with pytest.raises(InvalidSettings) as caught:
            cls.from_env(filled_in() | {var: value})
        assert f"\n  {var}: " in str(caught.value)
        assert value not in str(caught.value)


def test_no_production_profile_runs_in_development() -> None:
    for name in SERVICES:
        assert compose()["services"][name]["environment"]["ML_ENV"] == "production"
    config, _ = k8s_config()
    assert config["ML_ENV"] == "production"
    for container in deployments().values():
        assert "ML_ENV" not in {e["name"] for e in container.get("env", [])}
    # No file in deploy/ sets development, not even commented out.
    for path in DEPLOY.rglob("*"):
        if path.is_file():
            assert not re.search(r"ML_ENV\W+development", path.read_text(errors="replace")), path


def test_env_example_says_which_service_reads_each_variable_and_which_are_secret() -> None:
    said: dict[str, tuple[set[str], bool]] = {}
    readers: tuple[set[str], bool] | None = None
    for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines():
        if m := re.match(r"^# Read by: ([a-z, -]+)\.( \(secret\))?$", line):
            readers = ({s.strip() for s in m.group(1).split(",")}, bool(m.group(2)))
        elif m := re.match(r"^#?\s*(ML_[A-Z0-9_]+|MONGO_URL)=", line):
            assert readers is not None, f"{m.group(1)}: no 'Read by' line above it"
            said[m.group(1)] = readers
            readers = None
    for var in settings_variables():
        services = {name for name, cls in SERVICE_SETTINGS.items() if var in all_names(cls)}
        assert said[var] == (services, var in ALL_SECRETS | {"ML_MONGO_URL"}), var


def deployments() -> dict[str, dict[str, Any]]:
    """Service name -> its Deployment's one container."""
    out = {}
    for obj in k8s_objects():
        if obj["kind"] == "Deployment":
            (container,) = obj["spec"]["template"]["spec"]["containers"]
            out[obj["metadata"]["name"]] = {**container, "pod": obj["spec"]["template"]["spec"]}
    return out


def k8s_config() -> tuple[dict[str, str], dict[str, dict[str, str]]]:
    """The ConfigMap's data, and each Secret's keys and values."""
    config: dict[str, str] = {}
    secrets: dict[str, dict[str, str]] = {}
    for obj in k8s_objects():
        if obj["kind"] == "ConfigMap":
            config |= obj["data"]
        if obj["kind"] == "Secret":
            secrets[obj["metadata"]["name"]] = obj["stringData"]
    return config, secrets


def test_kubernetes_config_names_every_variable() -> None:
    config, secrets = k8s_config()
    provided = set(config) | set(secrets["minilogin-secrets"])
    for container in deployments().values():
        provided |= {e["name"] for e in container.get("env", [])}
    # ML_MONGO_URL is only an alias of MONGO_URL.
    assert settings_variables() - {"ML_MONGO_URL"} - provided == set()


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_kubernetes_gives_each_service_exactly_its_own_secrets(service: str) -> None:
    cls = SERVICE_SETTINGS[service]
    config, secrets = k8s_config()
    assert set(config) & ALL_SECRETS == set(), "the ConfigMap goes to every service"
    container = deployments()[service]
    # No pod takes a whole Secret; each names the keys it reads.
    whole = [source for source in container.get("envFrom", []) if "secretRef" in source]
    assert whole == [], "takes a whole Secret"
    env = {e["name"]: e for e in container.get("env", [])}
    from_secrets = set()
    for name, entry in env.items():
        ref = entry.get("valueFrom", {}).get("secretKeyRef")
        if ref is not None:
            assert ref["key"] == name
            assert name in secrets[ref["name"]], f"{name} is not in the Secret {ref['name']}"
            from_secrets.add(name)
    files = set(env) & ALL_SECRET_FILES
    assert from_secrets | files == secret_variables(cls)
    # The Secrets mounted as files go only to the services whose settings name such files.
    mounted = {
        v["name"]: v["secret"]["secretName"] for v in container["pod"]["volumes"] if "secret" in v
    }
    assert bool(mounted) == bool(secret_files(cls))
    paths = [m["mountPath"] for m in container["volumeMounts"] if m["name"] in mounted]
    for var in secret_files(cls):
        value = env[var]["value"]
        assert all(any(p.startswith(f"{d}/") for d in paths) for p in value.split(",") if p)


# --- docker-compose ------------------------------------------------------------------

INTERPOLATION = re.compile(r"\$\{(\w+)(?::([-?])([^}]*))?\}")


def compose_env(service: str) -> dict[str, str]:
    """The settings variables compose gives a service (PYTHON* left out)."""
    env = compose()["services"][service]["environment"]
    return {k: str(v) for k, v in env.items() if not k.startswith("PYTHON")}


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_compose_gives_each_service_exactly_the_variables_and_secrets_it_reads(
    service: str,
) -> None:
    cls = SERVICE_SETTINGS[service]
    svc = compose()["services"][service]
    assert "env_file" not in svc, "deploy/.env holds every service's secrets"
    env = compose_env(service)
    assert set(env) & ALL_SECRETS == secret_variables(cls)
    assert set(env) == set(variables(cls))
    # The key files are compose secrets, mounted only into the services that read them.
    assert bool(svc.get("secrets")) == bool(secret_files(cls))
    if secret_files(cls):
        assert env["ML_JWT_PRIVATE_KEY_FILE"] == f"/run/secrets/{svc['secrets'][0]}"


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_compose_values_are_what_the_service_starts_with(service: str) -> None:
    """Each value takes its own variable from deploy/.env; a secret with a development
    default must be set there (`${...:?}`); the defaults given here parse."""
    cls = SERVICE_SETTINGS[service]
    required = {
        "ML_SECRET_KEY": Fernet.generate_key().decode(),
        "ML_PUBLIC_URL": "https://x.example",
    }
    resolved = {}
    for var, value in compose_env(service).items():
        for m in INTERPOLATION.finditer(value):
            if not m.group(1).endswith(("_USER", "_PASSWORD")):
                assert m.group(1) == var, f"{var} is given {m.group(1)}"
        if var not in variables(cls):
            continue  # not read: the test above says so
        field = cls.model_fields[variables(cls)[var]]
        if var in ALL_SECRETS and field.default and not isinstance(field.default, tuple):
            assert ":?" in value, f"{var} would fall back to a development value"

        def fill(m: re.Match[str], var: str = var) -> str:
            return m.group(3) if m.group(2) == "-" else required.get(var, "set-in-env")

        resolved[var] = INTERPOLATION.sub(fill, value)
    cls.from_env(resolved)  # raises InvalidSettings naming any value the service refuses


def test_compose_runs_the_real_topology() -> None:
    services = compose()["services"]
    assert "management" in services["rabbitmq"]["image"]
    assert services["redis"]["image"].startswith("redis:")
    assert services["mongo"]["image"].startswith("mongo:")
    for name in SERVICES:
        svc = services[name]
        assert svc["build"]["context"] == ".."
        assert svc["build"]["dockerfile"] == "services/Dockerfile"
        assert svc["build"]["args"] == {"SERVICE": name}
        assert (ROOT / svc["build"]["dockerfile"]).is_file()
        assert f"/internal/{name}/readyz" in " ".join(svc["healthcheck"]["test"])
        assert svc["environment"]["ML_HOST"] == "0.0.0.0"  # noqa: S104  # inside the container
        assert "profiles" not in svc
        assert "wechat-sandbox" not in svc.get("depends_on", {})
    assert services["notifier"]["deploy"]["replicas"] == 2


def test_the_wechat_sandbox_is_only_in_the_dev_profile() -> None:
    services = compose()["services"]
    sandbox = services["wechat-sandbox"]
    assert sandbox["profiles"] == ["dev"]
    assert (ROOT / sandbox["build"]["dockerfile"]).is_file()
    for name, svc in services.items():
        if name != "wechat-sandbox":
            assert "dev" not in svc.get("profiles", []), name
    # Production default: the real WeChat API unless ML_WX_API_BASE is given for dev.
    readers = [n for n, cls in SERVICE_SETTINGS.items() if "ML_WX_API_BASE" in variables(cls)]
    assert readers
    for name in readers:
        base = services[name]["environment"]["ML_WX_API_BASE"]
        assert base == "${ML_WX_API_BASE:-https://api.weixin.qq.com}"


# --- Ingress: nginx (compose) --------------------------------------------------------


def _blocks(text: str, keyword: str) -> list[tuple[str, str]]:
    """(argument, body) of every `keyword arg {...}` block, braces matched."""
    out = []
    for m in re.finditer(rf"(?m)^\s*{keyword}\b([^{{;]*)\{{", text):
        depth, i = 1, m.end()
        while depth:
            depth += {"{": 1, "}": -1}.get(text[i], 0)
            i += 1
        out.append((m.group(1).strip(), text[m.end() : i - 1]))
    return out


def nginx_router() -> tuple[dict[str, str], list[tuple[str, str, str]]]:
    """Upstream name -> compose service, and the public server's (modifier, path, body)."""
    text = re.sub(r"#[^\n]*", "", NGINX_CONF.read_text(encoding="utf-8"))
    upstreams = {}
    for name, body in _blocks(text, "upstream"):
        hosts = re.findall(r"\bserver\s+([\w.-]+):\d+", body)
        assert len(hosts) == 1, name
        upstreams[name] = hosts[0]
    public = [body for _, body in _blocks(text, "server") if re.search(r"listen\s+8443", body)]
    assert len(public) == 1
    locations = []
    for arg, body in _blocks(public[0], "location"):
        parts = arg.split()
        modifier, path = (parts[0], parts[1]) if len(parts) == 2 else ("", parts[0])
        assert modifier in ("", "=", "^~"), "regex locations are not modelled here"
        locations.append((modifier, path, body))
    return upstreams, locations


def nginx_target(path: str) -> tuple[str | None, str]:
    """Which compose service nginx proxies `path` to (None: not proxied), and the block."""
    upstreams, locations = nginx_router()
    exact = [loc for loc in locations if loc[0] == "=" and loc[1] == path]
    prefixes = [loc for loc in locations if loc[0] != "=" and path.startswith(loc[1])]
    chosen = exact[0] if exact else max(prefixes, key=lambda loc: len(loc[1]))
    m = re.search(r"proxy_pass\s+http://(\w+)\s*;", chosen[2])
    return (upstreams[m.group(1)] if m else None), chosen[2]


def test_nginx_routes_every_public_route_to_its_service(
    routes_by_service: dict[str, set[tuple[str, str]]],
) -> None:
    for service, routes in routes_by_service.items():
        for _, path in routes:
            target, _ = nginx_target(sample(path))
            if path.startswith("/internal/"):
                assert target is None, f"{path} must not be public"
            else:
                assert target == service, f"{path}: nginx sends it to {target}"
    for name, svc in compose()["services"].items():
        if name != "ingress":
            continue
        assert any("minilogin.conf" in v for v in svc["volumes"])


def test_nginx_routes_the_public_prefixes() -> None:
    expected = {
        "/login": "qr-issuer",
        "/login/static/login.js": "qr-issuer",
        "/api/v1/tickets": "qr-issuer",
        "/q/x": "qr-issuer",
        "/sdk/minilogin.js": "qr-issuer",
        "/mp/v1/scan": "scan-gateway",
        "/oauth/token": "account",
        "/.well-known/jwks.json": "account",
        "/admin/v1/apps": "account",
        "/ws/tickets/x": "notifier",
        "/internal/account/metrics": None,
        "/metrics": None,
    }
    assert {p: nginx_target(p)[0] for p in expected} == expected


def test_nginx_upgrades_websockets_with_a_long_read_timeout() -> None:
    _, body = nginx_target("/ws/tickets/" + "A" * 22)
    assert re.search(r"proxy_set_header\s+Upgrade\s+\$http_upgrade", body)
    assert re.search(r"proxy_set_header\s+Connection\s+\$connection_upgrade", body)
    assert re.search(r"proxy_http_version\s+1\.1", NGINX_CONF.read_text())
    timeout = re.search(r"proxy_read_timeout\s+(\d+)s", body)
    assert timeout is not None
    assert int(timeout.group(1)) >= 600  # longer than the longest ticket
    # proxy_set_header in a location drops the server's: the client address must be kept.
    assert "X-Forwarded-For" in body


# --- Ingress: Kubernetes -------------------------------------------------------------


def k8s_target(path: str) -> str | None:
    """The Service the Ingresses send `path` to (Prefix matching by path element)."""
    best: tuple[int, str] | None = None
    for obj in k8s_objects():
        if obj["kind"] != "Ingress":
            continue
        for rule in obj["spec"]["rules"]:
            for p in rule["http"]["paths"]:
                assert p["pathType"] == "Prefix"
                prefix = p["path"].rstrip("/")
                if (path == prefix or path.startswith(prefix + "/")) and (
                    best is None or len(prefix) > best[0]
                ):
                    best = (len(prefix), p["backend"]["service"]["name"])
    return best[1] if best else None


def test_kubernetes_ingress_routes_every_public_route_to_its_service(
    routes_by_service: dict[str, set[tuple[str, str]]],
) -> None:
    for service, routes in routes_by_service.items():
        for _, path in routes:
            target = k8s_target(sample(path))
            if path.startswith("/internal/"):
                assert target is None, f"{path} must not be public"
            else:
                assert target == service, f"{path}: the Ingress sends it to {target}"


def test_kubernetes_websocket_ingress_has_long_timeouts() -> None:
    for obj in k8s_objects():
        if obj["kind"] == "Ingress" and any(
            p["backend"]["service"]["name"] == "notifier"
            for r in obj["spec"]["rules"]
            for p in r["http"]["paths"]
        ):
            notes = obj["metadata"]["annotations"]
            assert int(notes["nginx.ingress.kubernetes.io/proxy-read-timeout"]) >= 600
            assert int(notes["nginx.ingress.kubernetes.io/proxy-send-timeout"]) >= 600
            return
    pytest.fail("no Ingress for the notifier")


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_kubernetes_deployment_is_probed_limited_and_locked_down(service: str) -> None:
    objs = {(o["kind"], o["metadata"]["name"]): o for o in k8s_objects()}
    deployment = objs[("Deployment", service)]
    for kind in ("Service", "PodDisruptionBudget", "HorizontalPodAutoscaler"):
        assert (kind, service) in objs
    pod = deployment["spec"]["template"]
    (container,) = pod["spec"]["containers"]
    assert container["command"] == ["python", "-m", SERVICES[service]]
    assert container["readinessProbe"]["httpGet"]["path"] == f"/internal/{service}/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == f"/internal/{service}/healthz"
    assert {"cpu", "memory"} <= set(container["resources"]["requests"])
    assert {"cpu", "memory"} <= set(container["resources"]["limits"])
    assert pod["spec"]["securityContext"]["runAsNonRoot"] is True
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    assert pod["metadata"]["annotations"]["prometheus.io/path"] == f"/internal/{service}/metrics"
    hpa = objs[("HorizontalPodAutoscaler", service)]
    assert hpa["spec"]["scaleTargetRef"]["name"] == service
    assert hpa["spec"]["minReplicas"] >= 2


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_kubernetes_scrapes_metrics_on_a_port_no_service_exposes(service: str) -> None:
    config, _ = k8s_config()
    objs = {(o["kind"], o["metadata"]["name"]): o for o in k8s_objects()}
    pod = objs[("Deployment", service)]["spec"]["template"]
    (container,) = pod["spec"]["containers"]
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert ports == {"http": int(config["ML_PORT"]), "metrics": int(config["ML_METRICS_PORT"])}
    assert pod["metadata"]["annotations"]["prometheus.io/port"] == str(ports["metrics"])
    # The Ingress reaches pods through their Service, which leads only to the public port.
    service_ports = objs[("Service", service)]["spec"]["ports"]
    assert [p["targetPort"] for p in service_ports] == ["http"]


def test_the_podmonitor_scrapes_the_metrics_port() -> None:
    (monitor,) = load_all(K8S / "optional" / "podmonitor.yaml")
    assert [e["port"] for e in monitor["spec"]["podMetricsEndpoints"]] == ["metrics"]
