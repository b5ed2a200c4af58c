"""The operator's users API: list and search, create, import, edit, disable and enable,
erase, and unlink a WeChat identity. Authenticated as the rest of /admin/v1 (account.admin)."""

from __future__ import annotations

import asyncio
import re
from typing import Any, Literal

from aiohttp import web

from account import passwords
from account.admin import _admin
from account.context import Account
from account.local_accounts import normalize_email, normalize_phone, phone_forms
from account.user_fields import UserCreate, UserPatch, identity_out, user_out
from account.user_import import Importer, lines
from shared import logs
from shared.errors import InvalidRequest, NotFound, UnsupportedMediaType
from shared.web import read_json

log = logs.get(__name__)
routes = web.RouteTableDef()
DEFAULT_PAGE = 50
MAX_PAGE = 200
MAX_SEARCH_CHARS = 128
IMPORT_TYPES = frozenset({"application/x-ndjson", "application/jsonl", "text/plain"})
MAX_IMPORT_BYTES = 64 * 1024 * 1024


class UnknownUser(NotFound):
    code = "user_not_found"
    message = "No such user."


class UnknownIdentity(NotFound):
    code = "identity_not_found"
    message = "This user has no such identity."


def _param(request: web.Request, name: str) -> str | None:
    value = request.query.get(name)
    if value is None:
        return None
    if not value or len(value) > MAX_SEARCH_CHARS:
        raise InvalidRequest(f"{name}: 1 to {MAX_SEARCH_CHARS} characters")
    return value


def _limit(request: web.Request) -> int:
    raw = request.query.get("limit", str(DEFAULT_PAGE))
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_PAGE:
        raise InvalidRequest(f"limit: a whole number from 1 to {MAX_PAGE}")
    return int(raw)


async def _search(acct: Account, request: web.Request) -> dict[str, Any]:
    """The users query for the request's filters (all must hold)."""
    query: dict[str, Any] = {}
    ids: set[str] | None = None
    try:
        if (email := _param(request, "email")) is not None:
            query["email"] = normalize_email(email)
        if (phone := _param(request, "phone")) is not None:
            query["phone"] = {"$in": phone_forms(normalize_phone(phone))}
    except ValueError as exc:
        raise InvalidRequest(str(exc)) from exc
    for key in ("openid", "unionid"):
        if (value := _param(request, key)) is not None:
            found = {
                d["user_id"]
                async for d in acct.local_accounts.identities.find({key: value}, {"user_id": 1})
            }
            ids = found if ids is None else ids & found
    if (name := _param(request, "name")) is not None:
        # Part of the name or the WeChat nickname, any case.
        pattern = {"$regex": re.escape(name), "$options": "i"}
        query["$or"] = [{"name": pattern}, {"nickname": pattern}]
    id_range: dict[str, Any] = {}
    if ids is not None:
        id_range["$in"] = sorted(ids)
    if (cursor := _param(request, "cursor")) is not None:
        id_range["$gt"] = cursor
    if id_range:
        query["_id"] = id_range
    return query


@routes.get("/admin/v1/users")
async def list_users(request: web.Request) -> web.Response:
    acct = await _admin(request)
    limit = _limit(request)
    query = await _search(acct, request)
    found = acct.local_accounts.users.find(query).sort("_id", 1).limit(limit + 1)
    users = [user async for user in found]
    more = len(users) > limit
    users = users[:limit]
    return web.json_response(
        {
            "users": [user_out(u) for u in users],
            "next_cursor": users[-1]["_id"] if more else None,
        }
    )


async def _hashed(password: str | None) -> str | None:
    if password is None:
        return None
    return await asyncio.to_thread(passwords.hash_password, password)


@routes.post("/admin/v1/users")
async def create_user(request: web.Request) -> web.Response:
    acct = await _admin(request)
    body = await read_json(request, UserCreate)
    fields = body.model_dump(exclude={"password"}, exclude_none=True)
    if body.password is not None:
        fields["password_hash"] = await _hashed(body.password)
    user = await acct.local_accounts.create(fields)
    log.info("user_created", user_id=user["_id"])
    return web.json_response(user_out(user), status=201)


@routes.post("/admin/v1/users/import")
async def import_users(request: web.Request) -> web.Response:
    acct = await _admin(request)
    if request.content_type not in IMPORT_TYPES:
        raise UnsupportedMediaType(
            "Send JSON lines as application/x-ndjson (or text/plain), one user per line."
        )
    length = request.content_length
    if length is not None and length > MAX_IMPORT_BYTES:
        raise web.HTTPRequestEntityTooLarge(max_size=MAX_IMPORT_BYTES, actual_size=length)
    importer = Importer(acct.local_accounts)
    read = 0
    async for number, raw in lines(request.content):
        read += len(raw or b"")
        if read > MAX_IMPORT_BYTES:
            importer.summary.error(
                number, "payload_too_large", "The rest of the body was not read."
            )
            break
        await importer.add(number, raw)
    await importer.flush()
    s = importer.summary
    log.info("users_imported", imported=s.imported, skipped=s.skipped, failed=s.failed)
    return web.json_response(s.out())


async def _user(acct: Account, request: web.Request) -> dict[str, Any]:
    user = await acct.local_accounts.get(request.match_info["user_id"])
    if user is None:
        raise UnknownUser()
    return user


@routes.get("/admin/v1/users/{user_id}")
async def get_user(request: web.Request) -> web.Response:
    acct = await _admin(request)
    user = await _user(acct, request)
    identities = await acct.local_accounts.identities_of(user["_id"])
    return web.json_response(
        {**user_out(user), "identities": [identity_out(i) for i in identities]}
    )


@routes.patch("/admin/v1/users/{user_id}")
async def patch_user(request: web.Request) -> web.Response:
    acct = await _admin(request)
    body = await read_json(request, UserPatch)
    given = body.model_fields_set
    set_fields = {
        k: v
        for k, v in body.model_dump(exclude={"password"}).items()
        if k in given and v is not None
    }
    unset: list[str] = [
        k for k in ("email", "phone", "name") if k in given and getattr(body, k) is None
    ]
    if "phone" in unset:
        unset.append("phone_verified")
    elif "phone" in set_fields and "phone_verified" not in given:
        # A new number is not verified because the old one was.
        set_fields["phone_verified"] = False
    if "password" in given:
        if body.password is None:
            unset.append("password_hash")
        else:
            set_fields["password_hash"] = await _hashed(body.password)
    user_id = request.match_info["user_id"]
    user = await acct.local_accounts.update(user_id, set_fields, unset)
    if user is None:
        raise UnknownUser()
    acct.users.forget_user(user_id)  # here at once; other replicas within their cache time
    log.info("user_updated", user_id=user_id, fields=sorted(given))
    return web.json_response(user_out(user))


async def _set_disabled(request: web.Request, disabled: bool) -> web.Response:
    acct = await _admin(request)
    user_id = request.match_info["user_id"]
    user = await acct.local_accounts.update(user_id, {"disabled": disabled})
    if user is None:
        raise UnknownUser()
    acct.users.forget_user(user_id)  # here at once; other replicas within their cache time
    log.info("user_disabled" if disabled else "user_enabled", user_id=user_id)
    return web.json_response(user_out(user))


@routes.post("/admin/v1/users/{user_id}/disable")
async def disable_user(request: web.Request) -> web.Response:
    return await _set_disabled(request, True)


@routes.post("/admin/v1/users/{user_id}/enable")
async def enable_user(request: web.Request) -> web.Response:
    return await _set_disabled(request, False)


@routes.delete("/admin/v1/users/{user_id}")
async def delete_user(request: web.Request) -> web.Response:
    """Erasure: the user, every identity bound to them, and who they were in the audit
    trail (its records stay, anonymous)."""
    acct = await _admin(request)
    user_id = request.match_info["user_id"]
    removed = await acct.local_accounts.delete(user_id)
    if removed is None:
        raise UnknownUser()
    await acct.audit.forget_user(user_id, openids=[i["openid"] for i in removed])
    acct.users.forget_user(user_id)  # here at once; other replicas within their cache time
    log.info("user_erased", user_id=user_id, identities=len(removed))
    return web.Response(status=204)


@routes.delete("/admin/v1/users/{user_id}/identities/{connection_id}/{openid}")
async def unlink_identity(request: web.Request) -> web.Response:
    """The WeChat identity is no longer this user's: its next login starts afresh under the
    connection's policy (a new account, ask to bind, or a refusal)."""
    acct = await _admin(request)
    user = await _user(acct, request)
    m = request.match_info
    if not await acct.local_accounts.unlink(user["_id"], m["connection_id"], m["openid"]):
        raise UnknownIdentity()
    acct.users.forget_user(user["_id"])
    log.info("identity_unlinked", user_id=user["_id"], connection_id=m["connection_id"])
    return web.Response(status=204)


__all__: list[Literal["routes"]] = ["routes"]
