"""The operators' users API over the whole stack: local accounts created and found, imported in
bulk with the hashes of another site and then signed in to, disabled and enabled, erased with
everything bound to them, and a WeChat identity unlinked. Bad input gets a JSON error."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

import aiohttp
import bcrypt
import pytest
from argon2 import PasswordHasher
from minilogin_testkit import Stack

from account.context import ACCOUNT
from account.signin import InvalidCredentials, SignInRefused, UserDisabled, sign_in
from shared.clock import FakeClock
from shared.settings import DEV_ADMIN_TOKEN

ADMIN = {"Authorization": f"Bearer {DEV_ADMIN_TOKEN}"}
IP = "198.51.100.30"


async def call(
    stack: Stack,
    method: str,
    path: str,
    body: Any = None,
    *,
    headers: dict[str, str] | None = None,
    data: bytes | None = None,
) -> tuple[int, Any]:
    async with stack.http.request(
        method,
        stack.url(path),
        json=body if data is None else None,
        data=data,
        headers={**ADMIN, **(headers or {})},
    ) as r:
        if r.status == 204:
            return 204, None
        assert r.content_type == "application/json", await r.text()
        return r.status, await r.json()


async def create(stack: Stack, **fields: Any) -> dict[str, Any]:
    status, body = await call(stack, "POST", "/admin/v1/users", fields)
    assert status == 201, body
    return body  # type: ignore[no-any-return]


async def sign_in_as(stack: Stack, login: str, password: str) -> str:
    """Sign in as the binding page will, through the account service of this stack."""
    return await sign_in(stack.apps["account"][ACCOUNT], login, password, IP)


async def import_lines(stack: Stack, lines: list[Any]) -> dict[str, Any]:
    raw = "\n".join(line if isinstance(line, str) else json.dumps(line) for line in lines)
    status, body = await call(
        stack,
        "POST",
        "/admin/v1/users/import",
        data=raw.encode(),
        headers={"Content-Type": "application/x-ndjson"},
    )
    assert status == 200, body
    return body  # type: ignore[no-any-return]


async def test_an_operator_creates_a_local_account_and_its_owner_signs_in(stack: Stack) -> None:
    user = await create(
        stack, email="Li.Lei@Example.com", phone="13800001111", name="李雷", password="s3cret-pass"
    )
    assert user["email"] == "li.lei@example.com"
    assert user["phone"] == "+8613800001111"
    assert user["has_password"] is True
    assert user["disabled"] is False
    assert "password" not in json.dumps(user).replace("has_password", "")

    status, fetched = await call(stack, "GET", f"/admin/v1/users/{user['id']}")
    assert status == 200
    assert fetched == {**user, "identities": []}
    stored = await stack.db.users.find_one({"_id": user["id"]})
    assert stored["password_hash"].startswith("$argon2id$")

    assert await sign_in_as(stack, "li.lei@example.com", "s3cret-pass") == user["id"]
    assert await sign_in_as(stack, "+86 138 0000 1111", "s3cret-pass") == user["id"]
    with pytest.raises(InvalidCredentials):
        await sign_in_as(stack, "li.lei@example.com", "not-the-pass")


async def test_the_same_email_or_phone_cannot_belong_to_two_users(stack: Stack) -> None:
    first = await create(stack, email="han@example.com", phone="+8613900002222")
    for fields, field in (
        ({"email": "HAN@example.com"}, "email"),
        ({"phone": "13900002222", "email": "other@example.com"}, "phone"),
    ):
        status, body = await call(stack, "POST", "/admin/v1/users", fields)
        assert status == 409
        assert body["error"]["code"] == "identifier_taken"
        assert body["error"]["details"] == [{"field": field}]
    second = await create(stack, email="other@example.com")
    status, body = await call(
        stack, "PATCH", f"/admin/v1/users/{second['id']}", {"phone": "+8613900002222"}
    )
    assert (status, body["error"]["code"]) == (409, "identifier_taken")
    assert (await call(stack, "GET", f"/admin/v1/users/{first['id']}"))[1]["phone"] == (
        "+8613900002222"
    )


async def test_users_are_found_by_each_field_and_listed_page_by_page(stack: Stack) -> None:
    wechat_user = (await stack.users())[0]
    await stack.log_in(wechat_user["openid"])
    made = [
        await create(stack, email=f"user{i}@example.com", name=f"Zhang Wei {i}") for i in range(5)
    ]
    phoned = await create(stack, phone="+14155550199", name="Ann")

    async def search(query: str) -> list[str]:
        status, body = await call(stack, "GET", f"/admin/v1/users?{query}")
        assert status == 200, body
        return [u["id"] for u in body["users"]]

    assert await search("email=USER3@example.com") == [made[3]["id"]]
    assert await search("phone=%2B1%20415%20555%200199") == [phoned["id"]]
    assert sorted(await search("name=zhang%20wei")) == sorted(u["id"] for u in made)
    assert await search("name=nobody") == []
    by_openid = await search(f"openid={wechat_user['openid']}")
    assert len(by_openid) == 1
    status, found = await call(stack, "GET", f"/admin/v1/users/{by_openid[0]}")
    assert [i["openid"] for i in found["identities"]] == [wechat_user["openid"]]
    assert found["identities"][0]["connection_id"] == "wechat-demo"

    seen: list[str] = []
    cursor = ""
    while True:
        status, page = await call(stack, "GET", f"/admin/v1/users?limit=3{cursor}")
        assert status == 200
        assert len(page["users"]) <= 3
        seen += [u["id"] for u in page["users"]]
        if page["next_cursor"] is None:
            break
        cursor = f"&cursor={page['next_cursor']}"
    assert len(seen) == len(set(seen)) == 7


async def test_a_wechat_users_phone_is_found_in_either_form(stack: Stack) -> None:
    # WeChat gives mainland numbers without their country code, and the login stores them so.
    await stack.db.users.insert_one({"_id": "u_wechat", "phone": "13700003333", "created_at": 1.0})
    status, body = await call(stack, "GET", "/admin/v1/users?phone=%2B8613700003333")
    assert status == 200
    assert [(u["id"], u["phone"]) for u in body["users"]] == [("u_wechat", "+8613700003333")]


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode().rstrip("=")


async def test_an_import_with_another_sites_hashes_signs_in_and_rehashes(stack: Stack) -> None:
    existing = await create(stack, email="taken@example.com")
    salt = b"0123456789abcdef"
    scrypt = hashlib.scrypt(b"scrypt-pass", salt=salt, n=2**12, r=8, p=1, dklen=32)
    summary = await import_lines(
        stack,
        [
            {
                "email": "bcrypt@example.com",
                "name": "B",
                "password_hash": bcrypt.hashpw(b"bcrypt-pass", bcrypt.gensalt(6)).decode(),
            },
            {
                "phone": "+8613600004444",
                "password_hash": PasswordHasher(time_cost=1, memory_cost=8192).hash("argon-pass"),
            },
            "",  # a blank line is nothing
            "{not json",
            {
                "email": "scrypt@example.com",
                "password_hash": f"$scrypt$ln=12,r=8,p=1${_b64(salt)}${_b64(scrypt)}",
            },
            {"email": "taken@example.com", "name": "already here"},
            {"email": "md5@example.com", "password_hash": "5f4dcc3b5aa765d61d8327deb882cf99"},
            {"email": "not an email"},
            ["a list"],
            {"email": "extra@example.com", "role": "admin"},
            {"email": "plain@example.com", "password": "plain text"},
            {"email": "bcrypt@example.com", "name": "the same person twice"},
        ],
    )
    assert summary["imported"] == 3
    assert summary["skipped"] == 2
    assert summary["skipped_lines"] == [
        {"line": 6, "field": "email"},
        {"line": 12, "field": "email"},
    ]
    assert summary["failed"] == 6
    assert [(e["line"], e["code"]) for e in summary["errors"]] == [
        (4, "malformed_json"),
        (7, "invalid_request"),
        (8, "invalid_request"),
        (9, "invalid_request"),
        (10, "invalid_request"),
        (11, "invalid_request"),
    ]
    assert "password_hash" in summary["errors"][1]["message"]
    # Nothing half-applied: the skipped line left the existing user as it was.
    assert (await call(stack, "GET", f"/admin/v1/users/{existing['id']}"))[1]["name"] is None
    assert await stack.db.users.count_documents({}) == 4

    for login, password in (
        ("bcrypt@example.com", "bcrypt-pass"),
        ("13600004444", "argon-pass"),
        ("scrypt@example.com", "scrypt-pass"),
    ):
        user_id = await sign_in_as(stack, login, password)
        stored = await stack.db.users.find_one({"_id": user_id})
        assert stored["password_hash"].startswith("$argon2id$v=19$m=65536,t=3,p=4$"), login
        assert await sign_in_as(stack, login, password) == user_id


async def test_import_bodies_that_are_not_json_lines_are_refused(stack: Stack) -> None:
    status, body = await call(stack, "POST", "/admin/v1/users/import", {"email": "a@example.com"})
    assert (status, body["error"]["code"]) == (415, "unsupported_media_type")
    # A file saved with a byte-order mark and Windows line ends reads as any other.
    summary = await import_lines(
        stack, ['\ufeff{"email": "ok@example.com"}\r', "x" * 70_000, '{"email": "b@example.com"}']
    )
    assert summary["imported"] == 2
    assert [(e["line"], e["code"]) for e in summary["errors"]] == [(2, "line_too_long")]


async def test_a_disabled_user_cannot_sign_in_until_enabled(stack: Stack) -> None:
    user = await create(stack, email="wang@example.com", password="s3cret-pass")
    status, body = await call(stack, "POST", f"/admin/v1/users/{user['id']}/disable")
    assert (status, body["disabled"]) == (200, True)
    with pytest.raises(UserDisabled):
        await sign_in_as(stack, "wang@example.com", "s3cret-pass")
    status, body = await call(stack, "POST", f"/admin/v1/users/{user['id']}/enable")
    assert (status, body["disabled"]) == (200, False)
    assert await sign_in_as(stack, "wang@example.com", "s3cret-pass") == user["id"]


async def test_a_patch_changes_only_what_it_names(stack: Stack) -> None:
    user = await create(
        stack,
        email="zhao@example.com",
        name="Zhao",
        password="s3cret-pass",
        phone="13500004444",
        phone_verified=True,
    )
    status, body = await call(
        stack, "PATCH", f"/admin/v1/users/{user['id']}", {"phone": "13500005555", "name": None}
    )
    assert status == 200, body
    assert body["phone_verified"] is False  # the old number was verified, not this one
    assert (body["email"], body["phone"], body["name"]) == (
        "zhao@example.com",
        "+8613500005555",
        None,
    )
    assert body["updated_at"] >= user["updated_at"]
    status, body = await call(
        stack, "PATCH", f"/admin/v1/users/{user['id']}", {"password": "n3w-password"}
    )
    assert status == 200
    with pytest.raises(SignInRefused):
        await sign_in_as(stack, "zhao@example.com", "s3cret-pass")
    assert await sign_in_as(stack, "13500005555", "n3w-password") == user["id"]
    status, body = await call(stack, "PATCH", f"/admin/v1/users/{user['id']}", {"password": None})
    assert (status, body["has_password"]) == (200, False)
    with pytest.raises(InvalidCredentials):
        await sign_in_as(stack, "zhao@example.com", "n3w-password")


async def test_erasure_removes_the_user_and_every_identity(stack: Stack) -> None:
    wechat_user = (await stack.users())[1]
    await stack.log_in(wechat_user["openid"])
    identity = await stack.db.identities.find_one({"openid": wechat_user["openid"]})
    user_id = identity["user_id"]

    assert (await call(stack, "DELETE", f"/admin/v1/users/{user_id}"))[0] == 204
    status, body = await call(stack, "GET", f"/admin/v1/users/{user_id}")
    assert (status, body["error"]["code"]) == (404, "user_not_found")
    assert await stack.db.users.count_documents({"_id": user_id}) == 0
    assert await stack.db.identities.count_documents({"user_id": user_id}) == 0
    status, body = await call(stack, "GET", f"/admin/v1/users?openid={wechat_user['openid']}")
    assert body["users"] == []
    assert (await call(stack, "DELETE", f"/admin/v1/users/{user_id}"))[0] == 404

    # The same WeChat user logging in again is someone new to us.
    await stack.log_in(wechat_user["openid"])
    again = await stack.db.identities.find_one({"openid": wechat_user["openid"]})
    assert again["user_id"] != user_id


async def test_unlinking_an_identity_leaves_the_user_and_frees_the_wechat_user(
    stack: Stack,
) -> None:
    wechat_user = (await stack.users())[2]
    await stack.log_in(wechat_user["openid"])
    identity = await stack.db.identities.find_one({"openid": wechat_user["openid"]})
    user_id = identity["user_id"]
    path = f"/admin/v1/users/{user_id}/identities/wechat-demo/{wechat_user['openid']}"

    assert (await call(stack, "DELETE", path))[0] == 204
    status, body = await call(stack, "GET", f"/admin/v1/users/{user_id}")
    assert (status, body["identities"]) == (200, [])
    status, body = await call(stack, "DELETE", path)
    assert (status, body["error"]["code"]) == (404, "identity_not_found")

    await stack.log_in(wechat_user["openid"])
    again = await stack.db.identities.find_one({"openid": wechat_user["openid"]})
    assert again["user_id"] != user_id


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "code"),
    [
        ("POST", "/admin/v1/users", {"name": "no way to sign in"}, 400, "invalid_request"),
        ("POST", "/admin/v1/users", {"email": "a@b"}, 400, "invalid_request"),
        ("POST", "/admin/v1/users", {"phone": "call me"}, 400, "invalid_request"),
        (
            "POST",
            "/admin/v1/users",
            {"email": "a@example.com", "password": "short"},
            400,
            "invalid_request",
        ),
        (
            "POST",
            "/admin/v1/users",
            {"email": "a@example.com", "password": "long enough", "password_hash": "$2b$"},
            400,
            "invalid_request",
        ),
        (
            "POST",
            "/admin/v1/users",
            {"email": "a@example.com", "disabled": "maybe"},
            400,
            "invalid_request",
        ),
        ("PATCH", "/admin/v1/users/u_missing", {"name": "x"}, 404, "user_not_found"),
        ("PATCH", "/admin/v1/users/u_missing", {"email": None, "phone": 5}, 400, "invalid_request"),
        ("GET", "/admin/v1/users?limit=0", None, 400, "invalid_request"),
        ("GET", "/admin/v1/users?limit=abc", None, 400, "invalid_request"),
        ("GET", "/admin/v1/users?email=not-an-email", None, 400, "invalid_request"),
        ("GET", "/admin/v1/users/u_missing", None, 404, "user_not_found"),
        ("POST", "/admin/v1/users/u_missing/disable", None, 404, "user_not_found"),
        (
            "DELETE",
            "/admin/v1/users/u_missing/identities/wechat-demo/o-x",
            None,
            404,
            "user_not_found",
        ),
    ],
)
async def test_bad_input_gets_a_json_error(
    stack: Stack, method: str, path: str, body: Any, status: int, code: str
) -> None:
    got, answer = await call(stack, method, path, body)
    assert (got, answer["error"]["code"]) == (status, code), answer
    assert answer["error"]["message"]
    assert await stack.db.users.count_documents({}) == 0


async def test_the_users_api_needs_the_admin_token(stack: Stack) -> None:
    async with stack.http.get(stack.url("/admin/v1/users")) as r:
        assert r.status == 401
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            stack.url("/admin/v1/users/import"),
            data=b'{"email": "sneaky@example.com"}',
            headers={"Authorization": "Bearer wrong", "Content-Type": "text/plain"},
        ) as r,
    ):
        assert r.status == 403
    assert await stack.db.users.count_documents({}) == 0


async def test_repeated_wrong_passwords_are_slowed_and_audited_and_the_owner_still_gets_in(
    fake_clock_stack: Stack,
) -> None:
    stack = fake_clock_stack
    assert isinstance(stack.clock, FakeClock)
    user = await create(stack, email="target@example.com", password="owners-password")
    acct = stack.apps["account"][ACCOUNT]
    refusals: list[SignInRefused] = []
    while sum(r.code == "invalid_credentials" for r in refusals) < 6:
        with pytest.raises(SignInRefused) as caught:
            await sign_in(acct, "target@example.com", f"guess-{len(refusals)}", "203.0.113.9")
        refusals.append(caught.value)
        if caught.value.retry_after:
            stack.clock.advance(caught.value.retry_after)
    codes = [r.code for r in refusals]
    assert codes[:4] == ["invalid_credentials"] * 3 + ["sign_in_throttled"]
    waits = [r.retry_after or 0 for r in refusals if r.code == "sign_in_throttled"]
    assert waits == sorted(waits)
    assert waits[-1] > waits[0]

    # The owner, from home, is told to wait (never locked) and is in once the wait is over.
    with pytest.raises(SignInRefused) as caught:
        await sign_in(acct, "target@example.com", "owners-password", IP)
    assert caught.value.code == "sign_in_throttled"
    assert caught.value.retry_after is not None
    assert caught.value.retry_after <= 30
    stack.clock.advance(caught.value.retry_after)
    assert await sign_in(acct, "target@example.com", "owners-password", IP) == user["id"]

    status, body = await call(stack, "GET", f"/admin/v1/audit?user_id={user['id']}&kind=sign_in")
    assert status == 200, body
    reasons = [r["reason"] for r in body["records"] if r["outcome"] == "failed"]
    assert reasons.count("invalid_credentials") == codes.count("invalid_credentials")
    assert [r["outcome"] for r in body["records"]].count("succeeded") == 1


async def test_erasure_leaves_audit_records_that_no_longer_say_who(stack: Stack) -> None:
    user = await create(stack, email="forget.me@example.com", password="s3cret-pass")
    assert await sign_in_as(stack, "forget.me@example.com", "s3cret-pass") == user["id"]
    status, before = await call(stack, "GET", f"/admin/v1/audit?user_id={user['id']}")
    assert status == 200
    assert len(before["records"]) == 1

    assert (await call(stack, "DELETE", f"/admin/v1/users/{user['id']}"))[0] == 204
    status, after = await call(stack, "GET", f"/admin/v1/audit?user_id={user['id']}")
    assert (status, after["records"]) == (200, [])
    record = await stack.db.audit.find_one({"_id": before["records"][0]["id"]})
    assert record["user_id"] is None
    assert record["pc_ip"] is None
    assert record["erased_at"] is not None
