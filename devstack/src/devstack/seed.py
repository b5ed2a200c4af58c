"""The demo connection and app the embedded default starts with, and what `make run` adds
for a newcomer to try: an ask-binding connection and a local account to link WeChat to."""

from __future__ import annotations

import io
from dataclasses import dataclass

from PIL import Image, ImageDraw

from account.passwords import hash_password
from account.users import new_user_id
from shared import ids
from shared.registry import App, Association, Connection, Registry

DEMO_CONNECTION = "wechat-demo"
DEMO_CLIENT_ID = "demo"
DEMO_CLIENT_SECRET = "demo-client-secret-for-development-only"
# `make run` only (tests' stacks keep the demo app to one connection).
BINDING_CONNECTION = "wechat-demo-bind"
# Public, like every built-in development secret: printed at start for the newcomer.
DEMO_ACCOUNT_EMAIL = "demo@minilogin.test"
DEMO_ACCOUNT_PASSWORD = "try-minilogin-demo"


@dataclass(frozen=True)
class DemoAccount:
    email: str
    password: str


def demo_logo() -> bytes:
    """A small green badge, drawn here so the repository carries no binary."""
    img = Image.new("RGBA", (96, 96), (0, 0, 0, 0))
    draw = ImageDraw.Draw(img)
    draw.rounded_rectangle((0, 0, 95, 95), radius=22, fill=(7, 193, 96, 255))
    draw.ellipse((18, 22, 62, 60), fill="white")
    draw.ellipse((40, 38, 80, 74), fill="white")
    draw.ellipse((46, 44, 74, 68), fill=(7, 193, 96, 255))
    out = io.BytesIO()
    img.save(out, format="PNG")
    return out.getvalue()


async def seed_demo(registry: Registry, public_url: str, now: float) -> None:
    """Create the demo app and connection unless they exist (restarts keep edits)."""
    base = public_url.rstrip("/")
    await registry.ensure_indexes()
    if await registry.apps.find_one({"client_id": DEMO_CLIENT_ID}) is None:
        await registry.save_app(
            App(
                client_id=DEMO_CLIENT_ID,
                name="MiniLogin Demo Shop",
                client_secret_hash=ids.sha256_hex(DEMO_CLIENT_SECRET),
                redirect_uris=[f"{base}/demo/callback"],
                web_origins=[base],
                created_at=now,
            )
        )
    if await registry.connections.find_one({"_id": DEMO_CONNECTION}) is None:
        await registry.save_connection(
            Connection(
                id=DEMO_CONNECTION,
                display_name="MiniLogin Demo Shop",
                callback_url=f"{base}/demo/",  # where its experience login lands
                logo_png=demo_logo(),
                request_phone=True,
                apps=[DEMO_CLIENT_ID],
                created_at=now,
                updated_at=now,
            )
        )


async def seed_try_outs(registry: Registry, public_url: str, now: float) -> DemoAccount:
    """An ask-binding connection on the demo app (the demo's normal login names its own
    connection, so it is unchanged) and one local account with a password to link WeChat
    to, unless they exist. The password is hashed with argon2id."""
    base = public_url.rstrip("/")
    if await registry.connections.find_one({"_id": BINDING_CONNECTION}) is None:
        await registry.save_connection(
            Connection(
                id=BINDING_CONNECTION,
                display_name="Demo Shop: link my account",
                callback_url=f"{base}/demo/",
                logo_png=demo_logo(),
                association=Association.ASK_BINDING,
                apps=[DEMO_CLIENT_ID],
                created_at=now,
                updated_at=now,
            )
        )
    users = registry.connections.database["users"]  # the account service's, same database
    if await users.find_one({"email": DEMO_ACCOUNT_EMAIL}, {"_id": 1}) is None:
        await users.insert_one(
            {
                "_id": new_user_id(),
                "email": DEMO_ACCOUNT_EMAIL,
                "name": "Demo Customer",
                "password_hash": hash_password(DEMO_ACCOUNT_PASSWORD),  # argon2id
                "local": True,
                "disabled": False,
                "created_at": now,
                "updated_at": now,
            }
        )
    return DemoAccount(DEMO_ACCOUNT_EMAIL, DEMO_ACCOUNT_PASSWORD)
