"""structlog set up once per process: JSON lines, the trace id carried in one context var.

`bound(...)` binds keys (request id, the ticket's trace id) for everything logged inside
it, across awaits. One ContextVar holding a small dict is cheaper per request than
structlog's one-var-per-key contextvars, which copy the whole context on every log line.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Mapping
from contextvars import ContextVar, Token
from types import MappingProxyType
from typing import Any

import structlog

__all__ = ["bound", "configure", "get", "merge_context"]

_EMPTY: Mapping[str, Any] = MappingProxyType({})
_CONTEXT: ContextVar[Mapping[str, Any]] = ContextVar("minilogin_log_context", default=_EMPTY)
_GLOBAL: dict[str, Any] = {}
_REDACT = {
    "secret",
    "session_key",
    "access_token",
    "js_code",
    "code",
    "phone",
    "password",
    "client_secret",
    "binding",
    "cookie",
    "authorization",
}


class bound:  # used like a function: `with logging.bound(trace_id=...)`
    """Bind keys for everything logged inside the block. A slotted object rather than a
    generator, because a waiting WebSocket holds one for minutes."""

    __slots__ = ("_token", "_values")

    def __init__(self, **values: Any) -> None:
        self._values = values
        self._token: Token[Mapping[str, Any]] | None = None

    def __enter__(self) -> None:
        self._token = _CONTEXT.set({**_CONTEXT.get(), **self._values})

    def __exit__(self, *_: object) -> None:
        if self._token is not None:
            _CONTEXT.reset(self._token)


def merge_context(_: Any, __: str, event: dict[str, Any]) -> dict[str, Any]:
    """Processor: add the process-wide and the bound keys (explicit keys win)."""
    ctx = _CONTEXT.get()
    if _GLOBAL or ctx:
        return {**_GLOBAL, **ctx, **event}
    return event


def _redact(_: Any, __: str, event: dict[str, Any]) -> dict[str, Any]:
    # Belt and braces: a secret passed by mistake never reaches the log sink.
    for key in _REDACT.intersection(event):
        event[key] = "[redacted]"
    return event


def configure(service: str, *, level: str = "INFO", json: bool = True) -> None:
    processors: list[Any] = [
        merge_context,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _redact,
        structlog.processors.format_exc_info,
    ]
    renderer: Any = structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer()
    structlog.configure(
        processors=[*processors, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=True,
    )
    _GLOBAL.clear()
    _GLOBAL["service"] = service
    # Library loggers (aiohttp access log, aio-pika) go to stderr too, at WARNING.
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="%(name)s %(message)s")


def get(name: str | None = None) -> Any:
    return structlog.get_logger(name)
