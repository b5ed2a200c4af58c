"""The demo connection and app the embedded default starts with."""

from __future__ import annotations

import io

from PIL import Image, ImageDraw

from shared import ids
from shared.registry import App, Connection, Registry

DEMO_CONNECTION = "wechat-demo"
DEMO_CLIENT_ID = "demo"
DEMO_CLIENT_SECRET = "demo-client-secret-for-development-only"


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
                callback_url=f"{base}/demo/callback",
                logo_png=demo_logo(),
                request_phone=True,
                apps=[DEMO_CLIENT_ID],
                created_at=now,
                updated_at=now,
            )
        )
