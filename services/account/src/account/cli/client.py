"""The admin HTTP API as the command line sees it: one request, its JSON, or an error a
person can read. Nothing here knows the server's code: only its documented API."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

import aiohttp

DEFAULT_URL = "http://127.0.0.1:8000"  # `make run`'s public URL


class CliError(Exception):
    """A failure to report in one line and end with `exit_code` (no traceback)."""

    exit_code = 1


class Unreachable(CliError):
    exit_code = 3


class ApiError(CliError):
    """The API refused the request: its status and its JSON error's code and message."""

    def __init__(self, status: int, code: str, message: str) -> None:
        self.status, self.code = status, code
        super().__init__(f"{code} (HTTP {status}): {message}")


def check_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise CliError(f"the URL {url!r} is not an http(s) URL of the MiniLogin deployment")
    return url.rstrip("/")


class AdminClient:
    def __init__(self, base_url: str, token: str, timeout: float) -> None:
        self.base = check_url(base_url)
        if not token:
            raise CliError(
                "no admin token: pass --token or set MINILOGIN_ADMIN_TOKEN (the deployment's "
                "ML_ADMIN_TOKEN)"
            )
        self._headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> AdminClient:
        self._session = aiohttp.ClientSession(headers=self._headers, timeout=self._timeout)
        return self

    async def __aexit__(self, *_: object) -> None:
        if self._session is not None:
            await self._session.close()

    async def call(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        params: dict[str, str] | None = None,
        data: bytes | None = None,
        content_type: str | None = None,
    ) -> Any:
        """The JSON answer (None for 204). Raises ApiError or Unreachable."""
        assert self._session is not None, "use the client as an async context manager"
        headers = {"Content-Type": content_type} if content_type else None
        url = self.base + path
        try:
            async with self._session.request(
                method, url, json=body, params=params, data=data, headers=headers
            ) as r:
                raw = await r.read()
                status, kind = r.status, r.content_type
        except (aiohttp.ClientError, TimeoutError) as exc:
            reason = str(exc) or type(exc).__name__
            raise Unreachable(f"cannot reach {self.base}: {reason}") from exc
        if status == 204:
            return None
        answer: Any = None
        if kind == "application/json":
            try:
                answer = json.loads(raw)
            except ValueError:
                answer = None
        if status >= 400:
            err = answer.get("error") if isinstance(answer, dict) else None
            if isinstance(err, dict):
                raise ApiError(status, str(err.get("code")), str(err.get("message")))
            raise ApiError(status, "http_error", f"{method} {path} answered {status} {kind}")
        if answer is None:
            raise CliError(f"{method} {path} answered {status} without JSON ({kind})")
        return answer
