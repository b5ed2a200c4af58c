"""Async client for the WeChat mini program server API (api.weixin.qq.com or the sandbox).

One instance per process, sharing the service's aiohttp session and Redis. The access
token is cached in Redis per appid; across all replicas only the holder of redis-py's
Redis lock fetches a new one (every fetch supersedes the previous token), the others wait
for the lock and read the new value, or keep using the old one while it is still valid.

Secrets (AppSecret, session_key, access_token, js_code, phone codes) are passed in as
arguments and never logged: log lines carry the API path, appid, errcode and timing only.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final, cast

import aiohttp
import redis.asyncio as aioredis
from redis.exceptions import LockNotOwnedError

from shared import logs
from shared.clock import Clock
from shared.keys import Keys
from shared.wechat.errors import (
    BUSY,
    LINK_OVERRIDES,
    TOKEN_REJECTED,
    WeChatError,
    WeChatInvalidCode,
    WeChatUnavailable,
    WeChatWatermarkMismatch,
    error_for,
)

__all__ = ["MiniProgramLink", "PhoneInfo", "Session", "WeChatClient", "image_type"]

log = logs.get(__name__)

PNG_MAGIC: Final = b"\x89PNG\r\n\x1a\n"
JPEG_MAGIC: Final = b"\xff\xd8\xff"

# Compare-and-delete, so a replica never drops a token another one has just stored.
_DROP_TOKEN = """
if redis.call('HGET', KEYS[1], 'token') == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""

# 40013 on the phone API means "this code was issued to another appid": a bad code.
_PHONE_OVERRIDES: Final[Mapping[int, type[WeChatError]]] = {40013: WeChatInvalidCode}


@dataclass(frozen=True, slots=True)
class Session:
    """The result of code2Session. `session_key` stays inside the service that owns it."""

    openid: str
    session_key: str = field(repr=False)
    unionid: str | None = None


@dataclass(frozen=True, slots=True)
class PhoneInfo:
    phone_number: str = field(repr=False)
    pure_phone_number: str = field(repr=False)
    country_code: str
    watermark_appid: str
    watermark_timestamp: int


@dataclass(frozen=True, slots=True)
class MiniProgramLink:
    """A URL Scheme (`weixin://dl/business/?t=...`, kind "scheme") or URL Link
    (`https://wxaurl.cn/...`, kind "link") that opens the mini program from a phone's
    browser, until `expires_at` (unix seconds)."""

    url: str
    kind: str
    expires_at: int


@dataclass(frozen=True, slots=True)
class _CachedToken:
    token: str = field(repr=False)
    refresh_at: float
    expires_at: float


def image_type(data: bytes) -> str | None:
    """The image's media type from its magic bytes, or None when it is not PNG or JPEG."""
    if data.startswith(PNG_MAGIC):
        return "image/png"
    if data.startswith(JPEG_MAGIC):
        return "image/jpeg"
    return None


def _parse_json(body: bytes) -> dict[str, Any]:
    # Never trust the Content-Type: WeChat has sent JSON errors as text/plain.
    try:
        data = json.loads(body.decode("utf-8", "replace"), strict=False)
    except ValueError:
        raise WeChatError("WeChat answered with something that is not JSON.") from None
    if not isinstance(data, dict):
        raise WeChatError("WeChat answered with JSON that is not an object.")
    return data


def _errcode(data: Mapping[str, Any]) -> int:
    try:
        return int(data.get("errcode") or 0)
    except (TypeError, ValueError):
        raise WeChatError("WeChat answered with a malformed errcode.") from None


def _str_field(data: Mapping[str, Any], name: str) -> str:
    value = data.get(name)
    if not isinstance(value, str) or not value:
        raise WeChatError(f"WeChat's answer lacks the field {name!r}.")
    return value


class WeChatClient:
    def __init__(
        self,
        http: aiohttp.ClientSession,
        redis: aioredis.Redis,
        base_url: str,
        keys: Keys,
        clock: Clock,
        *,
        timeout: float = 5.0,
        max_attempts: int = 3,
        retry_base_delay: float = 0.2,
        refresh_margin: float = 300.0,
        lock_ttl: float | None = None,
        lock_wait: float | None = None,
        poll_interval: float = 0.02,
        stable_token: bool = False,
    ) -> None:
        """`redis` must decode responses. `stable_token` switches to POST /cgi-bin/stable_token.

        The refresh lock lives `lock_ttl` seconds unless released: by default as long as a
        token fetch with all its retries can take, so a slow refresher keeps it to the end,
        and a crashed one frees it soon after. Without a valid token a replica waits up to
        `lock_wait` for the lock (by default one lock life and a second, so it outlasts a
        crashed holder), checking every `poll_interval` seconds.
        """
        self._http = http
        self._redis = redis
        self._base_url = base_url.rstrip("/")
        self._keys = keys
        self._clock = clock
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._max_attempts = max(1, max_attempts)
        self._retry_base_delay = retry_base_delay
        self._refresh_margin = refresh_margin
        backoffs = retry_base_delay * (2 ** (self._max_attempts - 1) - 1)
        self._lock_ttl = (
            lock_ttl if lock_ttl is not None else timeout * self._max_attempts + backoffs + 1.0
        )
        self._lock_wait = lock_wait if lock_wait is not None else self._lock_ttl + 1.0
        self._poll_interval = poll_interval
        self._stable_token = stable_token
        # Coroutines of this process queue here, so only one of them talks to the Redis lock.
        self._local_locks: dict[str, asyncio.Lock] = {}
        self._drop_token = redis.register_script(_DROP_TOKEN)

    # -- login -----------------------------------------------------------------------------

    async def code2session(self, appid: str, secret: str, js_code: str) -> Session:
        """Redeem a wx.login code (GET /sns/jscode2session). Codes are single use."""
        data = await self._request_json(
            "GET",
            "/sns/jscode2session",
            appid=appid,
            params={
                "appid": appid,
                "secret": secret,
                "js_code": js_code,
                "grant_type": "authorization_code",
            },
            # A timed-out redemption may have consumed the code; retrying would only get 40163.
            retry_transport=False,
        )
        unionid = data.get("unionid")
        return Session(
            openid=_str_field(data, "openid"),
            session_key=_str_field(data, "session_key"),
            unionid=unionid if isinstance(unionid, str) and unionid else None,
        )

    # -- phone number ----------------------------------------------------------------------

    async def get_phone_number(
        self, appid: str, secret: str, code: str, openid: str | None = None
    ) -> PhoneInfo:
        """Redeem a getPhoneNumber button code (POST /wxa/business/getuserphonenumber)."""
        body: dict[str, Any] = {"code": code}
        if openid is not None:
            body["openid"] = openid
        data, _ = await self._with_token(
            appid,
            secret,
            "POST",
            "/wxa/business/getuserphonenumber",
            json_body=body,
            retry_transport=False,
            overrides=_PHONE_OVERRIDES,
        )
        info = data.get("phone_info")
        if not isinstance(info, dict):
            raise WeChatError("WeChat's answer lacks phone_info.")
        watermark = info.get("watermark")
        if not isinstance(watermark, dict) or watermark.get("appid") != appid:
            raise WeChatWatermarkMismatch()
        country = info.get("countryCode")  # a string in captures, a number in the docs
        return PhoneInfo(
            phone_number=_str_field(info, "phoneNumber"),
            pure_phone_number=_str_field(info, "purePhoneNumber"),
            country_code=str(country) if country is not None else "",
            watermark_appid=appid,
            watermark_timestamp=int(watermark.get("timestamp") or 0),
        )

    # -- mini program code -----------------------------------------------------------------

    async def get_wxacode_unlimit(
        self,
        appid: str,
        secret: str,
        scene: str,
        page: str | None = None,
        env_version: str = "release",
        *,
        check_path: bool = True,
        width: int = 430,
        auto_color: bool = False,
        line_color: Mapping[str, int] | None = None,
        is_hyaline: bool = False,
    ) -> bytes:
        """The mini program code image for `scene` (POST /wxa/getwxacodeunlimit): PNG or JPEG."""
        body: dict[str, Any] = {
            "scene": scene,
            "check_path": check_path,
            "env_version": env_version,
            "width": width,
            "auto_color": auto_color,
            "is_hyaline": is_hyaline,
        }
        if page is not None:
            body["page"] = page
        if line_color is not None:
            body["line_color"] = dict(line_color)
        _, image = await self._with_token(
            appid, secret, "POST", "/wxa/getwxacodeunlimit", json_body=body, image=True
        )
        if image is None:
            raise WeChatError("WeChat answered without an image.")
        return image

    # -- opening the mini program from a phone's browser -----------------------------------

    async def generate_scheme(
        self,
        appid: str,
        secret: str,
        *,
        path: str,
        query: str,
        expires_at: int,
        env_version: str = "release",
    ) -> MiniProgramLink:
        """A URL Scheme for `path`?`query` (POST /wxa/generatescheme), valid until
        `expires_at` (at least a minute, at most 30 days away)."""
        body = {
            "jump_wxa": {"path": path, "query": query, "env_version": env_version},
            "expire_type": 0,
            "expire_time": expires_at,
        }
        data, _ = await self._with_token(
            appid, secret, "POST", "/wxa/generatescheme", json_body=body, overrides=LINK_OVERRIDES
        )
        return MiniProgramLink(_str_field(data, "openlink"), "scheme", expires_at)

    async def generate_urllink(
        self,
        appid: str,
        secret: str,
        *,
        path: str,
        query: str,
        expires_at: int,
        env_version: str = "release",
    ) -> MiniProgramLink:
        """A URL Link (an https link WeChat's page turns into the scheme) for `path`?`query`
        (POST /wxa/generate_urllink), valid until `expires_at`."""
        body = {
            "path": path,
            "query": query,
            "env_version": env_version,
            "expire_type": 0,
            "expire_time": expires_at,
        }
        data, _ = await self._with_token(
            appid, secret, "POST", "/wxa/generate_urllink", json_body=body, overrides=LINK_OVERRIDES
        )
        return MiniProgramLink(_str_field(data, "url_link"), "link", expires_at)

    # -- access token ----------------------------------------------------------------------

    async def access_token(self, appid: str, secret: str) -> str:
        """The cached access token, fetched by one refresher across all replicas when due."""
        cached = await self._cached_token(appid)
        if cached is not None and self._clock.now() < cached.refresh_at:
            return cached.token
        lock = self._local_locks.setdefault(appid, asyncio.Lock())
        async with lock:
            return await self._refresh_or_wait(appid, secret)

    async def invalidate_token(self, appid: str, token: str | None = None) -> None:
        """Drop the cached token; with `token`, only if it is still the cached one."""
        key = self._keys.wx_token(appid)
        if token is None:
            await self._redis.delete(key)
        else:
            await self._drop_token(keys=[key], args=[token])

    async def _refresh_or_wait(self, appid: str, secret: str) -> str:
        cached = await self._cached_token(appid)
        if cached is not None and self._clock.now() < cached.refresh_at:
            return cached.token  # a coroutine ahead of us in the queue refreshed it
        # The Lock's waits run on the event loop's time, not the injected clock: they wait
        # for another process and for Redis's own expiry, which no fake clock can move.
        lock = self._redis.lock(
            self._keys.wx_token_lock(appid),
            timeout=self._lock_ttl,
            sleep=self._poll_interval,
            blocking_timeout=self._lock_wait,
            thread_local=False,  # one Lock object per refresh, used by one coroutine
        )
        if cached is not None and self._clock.now() < cached.expires_at:
            # Due but still valid: refresh only if nobody else is; else keep the old one.
            if not await lock.acquire(blocking=False):
                return cached.token
        elif not await lock.acquire():
            log.warning("wechat_token_wait_timeout", appid=appid)
            raise WeChatUnavailable("Timed out waiting for the access token refresh.")
        try:
            # The previous holder may have stored a new token while we waited.
            cached = await self._cached_token(appid)
            if cached is not None and self._clock.now() < cached.refresh_at:
                return cached.token
            return await self._fetch_and_store(appid, secret)
        finally:
            try:
                await lock.release()
            except LockNotOwnedError:
                # The fetch outlived the lock: another replica may have fetched as well.
                log.warning("wechat_token_lock_expired", appid=appid)

    async def _cached_token(self, appid: str) -> _CachedToken | None:
        # The client decodes responses (a constructor requirement), so keys and values are str.
        entry = cast("dict[str, str]", await self._redis.hgetall(self._keys.wx_token(appid)))
        try:
            return _CachedToken(
                token=entry["token"],
                refresh_at=float(entry["refresh_at"]),
                expires_at=float(entry["expires_at"]),
            )
        except (KeyError, ValueError):
            return None

    async def _fetch_and_store(self, appid: str, secret: str) -> str:
        if self._stable_token:
            data = await self._request_json(
                "POST",
                "/cgi-bin/stable_token",
                appid=appid,
                json_body={
                    "grant_type": "client_credential",
                    "appid": appid,
                    "secret": secret,
                    "force_refresh": False,
                },
            )
        else:
            data = await self._request_json(
                "GET",
                "/cgi-bin/token",
                appid=appid,
                params={"grant_type": "client_credential", "appid": appid, "secret": secret},
            )
        token = _str_field(data, "access_token")
        try:
            expires_in = int(data.get("expires_in") or 7200)
        except (TypeError, ValueError):
            expires_in = 7200
        now = self._clock.now()
        refresh_in = max(expires_in - self._refresh_margin, expires_in / 2)
        key = self._keys.wx_token(appid)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.delete(key)
            pipe.hset(
                key,
                mapping={
                    "token": token,
                    "refresh_at": repr(now + refresh_in),
                    "expires_at": repr(now + expires_in),
                },
            )
            pipe.pexpire(key, max(1, expires_in) * 1000)
            await pipe.execute()
        log.info("wechat_token_refreshed", appid=appid, expires_in=expires_in)
        return token

    # -- transport -------------------------------------------------------------------------

    async def _with_token(
        self,
        appid: str,
        secret: str,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        json_body: Mapping[str, Any] | None = None,
        image: bool = False,
        retry_transport: bool = True,
        overrides: Mapping[int, type[WeChatError]] | None = None,
    ) -> tuple[dict[str, Any], bytes | None]:
        """Call a token-protected API; on a rejected token refresh it once and retry once."""
        token = await self.access_token(appid, secret)
        renewed = False
        while True:
            try:
                return await self._request(
                    method,
                    path,
                    appid=appid,
                    params={**(params or {}), "access_token": token},
                    json_body=json_body,
                    image=image,
                    retry_transport=retry_transport,
                    overrides=overrides,
                )
            except WeChatError as exc:
                if renewed or exc.errcode not in TOKEN_REJECTED:
                    raise
                log.info("wechat_token_rejected", appid=appid, path=path, errcode=exc.errcode)
                await self.invalidate_token(appid, token)
                token = await self.access_token(appid, secret)
                renewed = True

    async def _request_json(
        self,
        method: str,
        path: str,
        *,
        appid: str,
        params: Mapping[str, str] | None = None,
        json_body: Mapping[str, Any] | None = None,
        retry_transport: bool = True,
    ) -> dict[str, Any]:
        data, _ = await self._request(
            method,
            path,
            appid=appid,
            params=params,
            json_body=json_body,
            retry_transport=retry_transport,
        )
        return data

    async def _request(
        self,
        method: str,
        path: str,
        *,
        appid: str,
        params: Mapping[str, str] | None = None,
        json_body: Mapping[str, Any] | None = None,
        image: bool = False,
        retry_transport: bool = True,
        overrides: Mapping[int, type[WeChatError]] | None = None,
    ) -> tuple[dict[str, Any], bytes | None]:
        """One API call with retries on -1 (and on transport failures when safe)."""
        url = self._base_url + path
        loop = asyncio.get_running_loop()
        attempt = 0
        while True:
            attempt += 1
            last = attempt >= self._max_attempts
            started = loop.time()
            try:
                async with self._http.request(
                    method, url, params=params, json=json_body, timeout=self._timeout
                ) as resp:
                    status = resp.status
                    body = await resp.read()
            except (aiohttp.ClientError, TimeoutError) as exc:
                # The exception text may carry the URL, and the URL carries secrets: log the type.
                log.warning(
                    "wechat_transport_error",
                    path=path,
                    appid=appid,
                    attempt=attempt,
                    error=type(exc).__name__,
                )
                if last or not retry_transport:
                    raise WeChatUnavailable() from None
                await self._backoff(attempt)
                continue
            elapsed_ms = round((loop.time() - started) * 1000, 1)
            if status != 200:
                log.warning(
                    "wechat_http_status", path=path, appid=appid, attempt=attempt, status=status
                )
                if last or not retry_transport:
                    raise WeChatUnavailable(f"WeChat answered HTTP {status}.")
                await self._backoff(attempt)
                continue
            if image and image_type(body) is not None:
                log.debug("wechat_call", path=path, appid=appid, ms=elapsed_ms, bytes=len(body))
                return {}, body
            data = _parse_json(body)
            errcode = _errcode(data)
            log.debug("wechat_call", path=path, appid=appid, ms=elapsed_ms, errcode=errcode)
            if errcode == BUSY and not last:
                await self._backoff(attempt)
                continue
            if errcode:
                errmsg = data.get("errmsg")
                log.info(
                    "wechat_error",
                    path=path,
                    appid=appid,
                    errcode=errcode,
                    attempt=attempt,
                    errmsg=errmsg if isinstance(errmsg, str) else None,
                )
                raise error_for(
                    errcode, errmsg if isinstance(errmsg, str) else None, overrides=overrides
                )
            if image:
                raise WeChatError("WeChat answered without an image.")
            return data, None

    async def _backoff(self, attempt: int) -> None:
        await asyncio.sleep(self._retry_base_delay * (2 ** (attempt - 1)))
