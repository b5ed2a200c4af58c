"""docs/openapi.yaml is valid OpenAPI 3.1 and says what the services really do: the same
routes, request schemas that mirror the pydantic models, error codes that exist with the
statuses they are documented under, and the status message the browser really receives."""

from __future__ import annotations

import importlib
from typing import Any

import jsonschema
import pytest
import yaml
from docs_support import ROOT
from openapi_spec_validator import OpenAPIV31SpecValidator
from pydantic import BaseModel

from shared.errors import AppError
from shared.tickets.model import Ticket, TicketStatus
from shared.tickets.view import status_message

SPEC_PATH = ROOT / "docs" / "openapi.yaml"
METHODS = {"get", "put", "post", "delete", "patch", "options", "head", "trace"}
# Served but deliberately not part of the API document.
UNDOCUMENTED_PREFIXES = ("/internal/", "/login/static/", "/bind/static/")
# Codes the shared middleware renders for aiohttp's own HTTP errors, with their statuses.
HTTP_LAYER_CODES = {
    "not_found": {404},
    "method_not_allowed": {405},
    "payload_too_large": {413},
    "internal_error": {500},
    "http_error": {400, 401, 403, 409, 410, 411, 414, 415, 416, 429, 431},
}
# Every module that defines AppError subclasses a public route can raise.
ERROR_MODULES = [
    "shared.errors",
    "shared.tickets.errors",
    "shared.registry",
    "shared.wechat.errors",
    "qr_issuer.routes",
    "qr_issuer.same_device",
    "scan_gateway.routes",
    "scan_gateway.proximity",
    "scan_gateway.sessions",
    "account.oidc",
    "account.admin",
    "account.codes",
    "notifier.errors",
    "account.clients",
    "account.grants",
    "account.admin_users",
    "account.local_accounts",
    "account.binding_page",
]
SERVICE_ERROR_MODULES = ERROR_MODULES[4:]
# Request schema -> the pydantic model the handler validates the body with.
MIRRORED_MODELS = {
    "CreateTicket": "qr_issuer.routes:CreateTicket",
    "ScanRequest": "scan_gateway.routes:ScanRequest",
    "ConfirmRequest": "scan_gateway.routes:ConfirmRequest",
    "CancelRequest": "scan_gateway.routes:CancelRequest",
    "StatusRequest": "scan_gateway.routes:StatusRequest",
    "BindSignInRequest": "account.binding_page:SignInRequest",
    "BindNewAccountRequest": "account.binding_page:NewAccountRequest",
    "ConnectionCreate": "account.admin:ConnectionCreate",
    "ConnectionPatch": "account.admin:ConnectionPatch",
    "AppCreate": "account.admin:AppCreate",
    "AppPatch": "account.admin:AppFields",
    "UserCreate": "account.user_fields:UserCreate",
    "UserImportLine": "account.user_fields:UserImportLine",
    "UserPatch": "account.user_fields:UserPatch",
}
CONSTRAINTS = ("minLength", "maxLength", "pattern", "minimum", "maximum", "minItems", "maxItems")


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(SPEC_PATH.read_text(encoding="utf-8"))
    return loaded


def operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, op)
        for path, item in spec["paths"].items()
        for method, op in item.items()
        if method in METHODS
    ]


def resolve(doc: dict[str, Any], node: Any) -> Any:
    """Follow local `$ref`s (JSON pointers into `doc`) until a schema that is not one."""
    while isinstance(node, dict) and "$ref" in node:
        target: Any = doc
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        node = target
    return node


def constraints(doc: dict[str, Any], schema: Any) -> tuple[dict[str, Any], set[Any]]:
    """The validation keywords of a property, looking through $ref and anyOf/oneOf/allOf,
    and the non-null enum values it allows."""
    found: dict[str, Any] = {}
    enum: set[Any] = set()
    stack = [schema]
    while stack:
        node = resolve(doc, stack.pop())
        if not isinstance(node, dict):
            continue
        for key in CONSTRAINTS:
            if key in node:
                found[key] = node[key]
        enum |= {v for v in node.get("enum", []) if v is not None}
        if "const" in node and node["const"] is not None:
            enum.add(node["const"])
        for key in ("anyOf", "oneOf", "allOf"):
            stack.extend(node.get(key, []))
    return found, enum


def known_error_statuses() -> dict[str, set[int]]:
    for name in ERROR_MODULES:
        importlib.import_module(name)
    statuses: dict[str, set[int]] = {k: set(v) for k, v in HTTP_LAYER_CODES.items()}
    todo: list[type[AppError]] = [AppError]
    while todo:
        cls = todo.pop()
        statuses.setdefault(cls.code, set()).add(cls.status)
        todo.extend(cls.__subclasses__())
    return statuses


def test_document_is_valid_openapi_3_1(spec: dict[str, Any]) -> None:
    assert spec["openapi"].startswith("3.1.")
    errors = [e.message for e in OpenAPIV31SpecValidator(spec).iter_errors()]
    assert errors == []


def test_every_public_route_is_documented_and_nothing_else(
    spec: dict[str, Any], routes_by_service: dict[str, set[tuple[str, str]]]
) -> None:
    served = {
        (method, path)
        for routes in routes_by_service.values()
        for method, path in routes
        if not path.startswith(UNDOCUMENTED_PREFIXES)
    }
    documented = {(method, path) for method, path, _ in operations(spec)}

    # aiohttp's "*" route takes any method: it must be documented with at least one.
    any_method = {path for method, path in served if method == "*"}
    missing = {
        (m, p)
        for m, p in served
        if (m != "*" and (m, p) not in documented)
        or (m == "*" and not any(dp == p for _, dp in documented))
    }
    extra = {(m, p) for m, p in documented if (m, p) not in served and p not in any_method}
    assert missing == set(), f"served but not in docs/openapi.yaml: {sorted(missing)}"
    assert extra == set(), f"documented but not served: {sorted(extra)}"


def test_path_parameters_are_declared(spec: dict[str, Any]) -> None:
    for method, path, op in operations(spec):
        params = [
            resolve(spec, p)
            for p in [*spec["paths"][path].get("parameters", []), *op.get("parameters", [])]
        ]
        declared = {p["name"] for p in params if p["in"] == "path"}
        in_path = {seg[1:-1] for seg in path.split("/") if seg.startswith("{")}
        assert declared == in_path, f"{method} {path}"


@pytest.mark.parametrize("schema_name", sorted(MIRRORED_MODELS))
def test_request_schemas_mirror_the_pydantic_models(spec: dict[str, Any], schema_name: str) -> None:
    module_name, _, attr = MIRRORED_MODELS[schema_name].partition(":")
    model: type[BaseModel] = getattr(importlib.import_module(module_name), attr)
    ours = resolve(spec, spec["components"]["schemas"][schema_name])
    theirs = model.model_json_schema()

    assert ours.get("additionalProperties") is False
    assert model.model_config.get("extra") == "forbid"
    assert set(ours["properties"]) == set(model.model_fields), schema_name
    required = {n for n, f in model.model_fields.items() if f.is_required()}
    assert set(ours.get("required", [])) == required, schema_name

    for name, prop in theirs["properties"].items():
        want, want_enum = constraints(theirs, prop)
        got, got_enum = constraints(spec, ours["properties"][name])
        for key, value in want.items():
            assert got.get(key) == value, f"{schema_name}.{name}: {key}"
        assert got_enum == want_enum, f"{schema_name}.{name}: enum"
        if "default" in prop:
            assert resolve(spec, ours["properties"][name]).get("default") == prop["default"], (
                f"{schema_name}.{name}: default"
            )


def test_error_codes_exist_with_the_documented_status(spec: dict[str, Any]) -> None:
    known = known_error_statuses()
    for method, path, op in operations(spec):
        for status, codes in op.get("x-error-codes", {}).items():
            assert str(status) in op["responses"], f"{method} {path}: no {status} response"
            for code in codes:
                assert code in known, f"{method} {path}: unknown error code {code!r}"
                assert int(status) in known[code], (
                    f"{method} {path}: {code} is answered with {sorted(known[code])}, "
                    f"documented under {status}"
                )
        for status, response in op["responses"].items():
            if str(status).startswith(("4", "5")):
                assert str(status) in op.get("x-error-codes", {}), (
                    f"{method} {path}: {status} lists no error codes"
                )
                schema = resolve(spec, resolve(spec, response)["content"]["application/json"])
                expected = "OAuthError" if path.startswith("/oauth/") else "Error"
                assert schema["schema"]["$ref"].endswith("/" + expected), f"{method} {path}"


def test_every_service_error_code_is_documented(spec: dict[str, Any]) -> None:
    documented = {
        code
        for _, _, op in operations(spec)
        for codes in op.get("x-error-codes", {}).values()
        for code in codes
    }
    defined = set()
    for name in SERVICE_ERROR_MODULES:
        module = importlib.import_module(name)
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and issubclass(value, AppError)
                and value.__module__ == module.__name__
            ):
                defined.add(value.code)
    assert defined - documented == set()


def _ticket(status: TicketStatus, **changes: Any) -> Ticket:
    base = Ticket(
        id="A" * 22,
        status=status,
        version=3,
        connection_id="demo",
        client_id="client",
        redirect_uri="https://site.example/cb",
        state="s",
        code_challenge="c" * 43,
        nonce="",
        binding_hash="0" * 64,
        created_at=1000.0,
        expires_at=1120.0,
        trace_id="t",
    )
    return base.with_changes(**changes)


@pytest.mark.parametrize(
    ("ticket", "now"),
    [
        (_ticket(TicketStatus.PENDING), 1010.0),
        (_ticket(TicketStatus.PENDING), 1200.0),  # lapsed: reported as expired, version + 1
        (
            _ticket(TicketStatus.SCANNED, scanner_openid="o1", scanner_nickname="Bob"),
            1010.0,
        ),
        (
            _ticket(
                TicketStatus.CONFIRMED,
                scanner_openid="o1",
                scanner_avatar="data:image/png;base64,AA",
            ),
            1010.0,
        ),
        (
            _ticket(
                TicketStatus.SCANNED,
                scanner_openid="o1",
                account_nickname="李雷",
                account_avatar="https://thirdwx.qlogo.cn/mmopen/a/132",
            ),
            1010.0,
        ),
        (
            _ticket(TicketStatus.SUCCEEDED, redirect_url="https://site.example/cb?code=x"),
            1010.0,
        ),
        (_ticket(TicketStatus.FAILED, reason="account_not_found"), 1010.0),
        (_ticket(TicketStatus.BINDING_REQUIRED, reason="no_account_bound"), 1010.0),
        (_ticket(TicketStatus.CANCELLED), 1010.0),
    ],
)
def test_the_status_message_matches_its_schema(
    spec: dict[str, Any], ticket: Ticket, now: float
) -> None:
    schema = {
        "$ref": "#/components/schemas/TicketStatusMessage",
        "components": spec["components"],
    }
    jsonschema.Draft202012Validator(schema).validate(status_message(ticket, now))


def test_the_websocket_is_described(spec: dict[str, Any]) -> None:
    op = spec["paths"]["/ws/tickets/{ticket}"]["get"]
    assert "101" in op["responses"]
    ws = op["x-websocket"]
    assert ws["server-messages"]["$ref"].endswith("/TicketStatusMessage")
    assert {"bindingCookie": []} in op["security"]
