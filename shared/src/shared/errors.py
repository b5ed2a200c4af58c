"""Typed errors with stable snake_case codes. Views raise these; one middleware renders them."""

from __future__ import annotations

from typing import Any, ClassVar

from pymongo.errors import ConnectionFailure, PyMongoError
from redis.exceptions import (
    AskError,
    AuthenticationError,
    AuthorizationError,
    ClusterDownError,
    ReadOnlyError,
    SlotNotCoveredError,
    TryAgainError,
)
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError


class AppError(Exception):
    """An error the caller should see: a stable code, a human message, an HTTP status."""

    status: ClassVar[int] = 400
    code: ClassVar[str] = "bad_request"
    message: ClassVar[str] = "The request is invalid."
    # Seconds after which the same request may succeed: sent as Retry-After. A class sets a
    # fixed wait; a raise that knows its own (a rate limit's window) passes it, and it is
    # then in the details too, for clients that read only the body.
    retry_after: int | None = None

    def __init__(
        self, message: str | None = None, *, details: Any = None, retry_after: int | None = None
    ) -> None:
        self.detail_message = message or self.message
        if retry_after is not None:
            self.retry_after = retry_after
            details = {"retry_after": retry_after} if details is None else details
        self.details = details
        super().__init__(self.detail_message)


class InvalidRequest(AppError):
    code = "invalid_request"
    message = "The request body or parameters are invalid."


class MalformedJson(AppError):
    code = "malformed_json"
    message = "The request body is not valid JSON."


# What the HTTP parser refuses before any route sees the request. aiohttp has sent its
# status line (400) by the time we can say more, so these differ only in their code.
class BadHttpRequest(AppError):
    code = "bad_http_request"
    message = "The HTTP request is malformed."


class UriTooLong(AppError):
    code = "uri_too_long"
    message = "The request line (URL) is too long."


class HeadersTooLarge(AppError):
    code = "headers_too_large"
    message = "A request header is too long, or there are too many headers."


class UnsupportedMediaType(AppError):
    status = 415
    code = "unsupported_media_type"
    message = "Send the body as application/json."


class Unauthorized(AppError):
    status = 401
    code = "unauthorized"
    message = "Authentication is required."


class Forbidden(AppError):
    status = 403
    code = "forbidden"
    message = "This action is not allowed."


class NotFound(AppError):
    status = 404
    code = "not_found"
    message = "No such resource."


class Conflict(AppError):
    status = 409
    code = "conflict"
    message = "The resource is in a state that does not allow this."


class RateLimited(AppError):
    status = 429
    code = "rate_limited"
    message = "Too many requests; slow down and retry later."


class UpstreamError(AppError):
    status = 502
    code = "upstream_error"
    message = "An upstream service failed."


class ServiceUnavailable(AppError):
    status = 503
    code = "service_unavailable"
    message = "The service is temporarily unavailable."


class TemporarilyUnavailable(AppError):
    """A store (Redis, MongoDB) is down, restarting, failing over or not answering in time:
    the client retries after Retry-After (RFC 6749 names this code for the same case)."""

    status = 503
    code = "temporarily_unavailable"
    message = "The service cannot reach its storage just now; retry in a moment."
    retry_after = 1


# What redis-py and PyMongo raise when the server is unreachable or does not answer within
# ML_REDIS_TIMEOUT / ML_MONGO_TIMEOUT (PyMongo's ConnectionFailure covers AutoReconnect,
# NetworkTimeout and ServerSelectionTimeoutError; its other timeouts say so in `.timeout`),
# or when a Redis Cluster or Sentinel primary is failing over: a slot no node serves yet, a
# write that reached a primary just demoted (READONLY), a slot still moving (MOVED or ASK
# past the client's own redirects).
_STORE_OUTAGES = (
    RedisConnectionError,
    RedisTimeoutError,
    ClusterDownError,  # MasterDownError too
    TryAgainError,
    SlotNotCoveredError,
    ReadOnlyError,
    AskError,  # MovedError too
    ConnectionFailure,
)
# Raised as connection errors, but a wrong password or ACL is a misconfiguration that no
# retry mends: those stay internal errors.
_MISCONFIGURED = (AuthenticationError, AuthorizationError)


def is_store_outage(exc: BaseException) -> bool:
    """Whether `exc` says a store is out of reach for now (503), not that our code failed."""
    if isinstance(exc, PyMongoError) and exc.timeout:  # e.g. a write concern not met in time
        return True
    return isinstance(exc, _STORE_OUTAGES) and not isinstance(exc, _MISCONFIGURED)


def error_body(code: str, message: str, request_id: str, details: Any = None) -> dict[str, Any]:
    err: dict[str, Any] = {"code": code, "message": message, "request_id": request_id}
    if details is not None:
        err["details"] = details
    return {"error": err}
