"""structlog set up once per process: JSON lines, trace id bound through contextvars."""

from __future__ import annotations

import logging
import sys
from typing import Any

import structlog
from structlog.contextvars import bind_contextvars, bound_contextvars, clear_contextvars

__all__ = ["bind_contextvars", "bound_contextvars", "clear_contextvars", "configure", "get"]

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


def _redact(_: Any, __: str, event: dict[str, Any]) -> dict[str, Any]:
    # Belt and braces: a secret passed by mistake never reaches the log sink.
    for key in _REDACT.intersection(event):
        event[key] = "[redacted]"
    return event


def configure(service: str, *, level: str = "INFO", json: bool = True) -> None:
    processors: list[Any] = [
        structlog.contextvars.merge_contextvars,
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
    structlog.contextvars.clear_contextvars()
    bind_contextvars(service=service)
    # Library loggers (aiohttp access log, aio-pika) go to stderr too, at WARNING.
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="%(name)s %(message)s")


def get(name: str | None = None) -> Any:
    return structlog.get_logger(name)
