"""Schemathesis sends every operation of docs/openapi.yaml generated valid and invalid
requests against the embedded stack, and every answer must be one the document describes:
no server error, only a status the operation lists, the Content-Type documented for that
status, and a body that validates against its documented schema (so every error is in the
documented envelope). Bounded and derandomized, so the same examples run on every machine."""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from docs_support import ROOT
from hypothesis import HealthCheck, Phase, given, settings
from minilogin_testkit import Stack, start_stack
from schemathesis import APIOperation
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Err
from schemathesis.generation.modes import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from shared.clock import SystemClock
from shared.settings import DEV_ADMIN_TOKEN

SPEC_PATH = ROOT / "docs" / "openapi.yaml"
# Per operation. 27 operations x 30 examples took about 40 s on two shared cores.
EXAMPLES = 30
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture(scope="module")
def live_stack(mongo_url: str) -> Iterator[Stack]:
    """The embedded stack served from its own thread and event loop: schemathesis calls it
    with a blocking HTTP client from the test's thread."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="stack", daemon=True)
    thread.start()
    starting = start_stack("embedded", mongo_url, f"mlfuzz{uuid.uuid4().hex[:12]}", SystemClock())
    stack = asyncio.run_coroutine_threadsafe(starting.__aenter__(), loop).result(60)
    try:
        yield stack
    finally:
        asyncio.run_coroutine_threadsafe(starting.__aexit__(None, None, None), loop).result(60)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


def _operations() -> dict[str, APIOperation[Any, Any, Any, Any]]:
    found = {}
    for result in schemathesis.openapi.from_path(str(SPEC_PATH)).get_all_operations():
        if isinstance(result, Err):  # test_openapi.py says why the document is wrong
            raise result.err()
        found[result.ok().label] = result.ok()
    return found


OPERATIONS = _operations()


# Operations whose every input is valid (no parameters, or only unconstrained strings):
# schemathesis has no invalid request to make of them.
NOTHING_INVALID = {
    "GET /.well-known/jwks.json",
    "GET /.well-known/openid-configuration",
    "OPTIONS /.well-known/jwks.json",
    "OPTIONS /.well-known/openid-configuration",
    "OPTIONS /api/v1/tickets",
    "OPTIONS /oauth/revoke",
    "OPTIONS /oauth/token",
    "OPTIONS /oauth/userinfo",
    "POST /oauth/logout",  # a form of optional, unconstrained strings
    "GET /api/v1/connections/{connection}/logo.png",
    "GET /q/{ticket}",
    "GET /favicon.ico",
}
RUNS = [
    pytest.param(label, mode, id=f"{label} {mode.value}")
    for label in sorted(OPERATIONS)
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
    if not (mode == GenerationMode.NEGATIVE and label in NOTHING_INVALID)
]


@pytest.mark.parametrize(("label", "mode"), RUNS)
def test_answers_are_the_documented_ones(
    live_stack: Stack, label: str, mode: GenerationMode
) -> None:
    headers = {}
    if OPERATIONS[label].path.startswith("/admin/"):
        # With the operator's token, the fuzzing reaches past authentication.
        headers["Authorization"] = f"Bearer {DEV_ADMIN_TOKEN}"

    @given(case=OPERATIONS[label].as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def examples(case: Any) -> None:
        case.call_and_validate(
            base_url=live_stack.public, headers=headers, checks=CHECKS, timeout=10
        )

    examples()
