"""The mini program code image: a real QR code whose payload says what WeChat would open.

Real codes are round "sun" codes that only WeChat reads; ours are square QR codes any
decoder reads, carrying {appid, page, scene, env_version} as compact JSON. Rendering is
CPU work: callers run it in an executor.
"""

from __future__ import annotations

import base64
import binascii
import io
import json
from typing import Any
from urllib.parse import quote

import qrcode
import qrcode.constants
from PIL import Image

from shared.errors import InvalidRequest
from wechat_sandbox.settings import ImageFormat
from wechat_sandbox.state import WxacodeRequest

PAYLOAD_KIND = "wxacode"
LAUNCH_SCENE_SCAN = 1047  # "扫描小程序码"
_BORDER = 4


def payload_for(req: WxacodeRequest) -> str:
    return json.dumps(
        {
            "kind": PAYLOAD_KIND,
            "appid": req.appid,
            "page": req.page,
            "scene": req.scene,
            "env_version": req.env_version,
        },
        separators=(",", ":"),
    )


def render(req: WxacodeRequest, image_format: ImageFormat) -> bytes:
    """A `width`-pixel square image; PNG (always when `is_hyaline`) or JPEG."""
    code = qrcode.QRCode(
        error_correction=qrcode.constants.ERROR_CORRECT_M, border=_BORDER, box_size=1
    )
    code.add_data(payload_for(req))
    code.make(fit=True)
    modules = code.modules_count + 2 * _BORDER
    code.box_size = max(1, req.width // modules)
    # Black-on-white modules become a mask; the line colour is painted through it.
    matrix = code.make_image().get_image().convert("L")
    modules_mask = matrix.point(lambda v: 255 if v < 128 else 0)
    if req.is_hyaline:
        canvas = Image.new("RGBA", (req.width, req.width), (255, 255, 255, 0))
        ink = Image.new("RGBA", matrix.size, (*req.line_color, 255))
    else:
        canvas = Image.new("RGB", (req.width, req.width), (255, 255, 255))
        ink = Image.new("RGB", matrix.size, req.line_color)
    offset = (req.width - matrix.width) // 2
    canvas.paste(ink, (offset, offset), modules_mask)
    out = io.BytesIO()
    if image_format == "jpeg" and not req.is_hyaline:
        canvas.save(out, format="JPEG", quality=92)
    else:
        canvas.save(out, format="PNG")
    return out.getvalue()


def decode_image(image_base64: str) -> str:
    """What a phone camera reads from a code image (the first QR code found)."""
    import zxingcpp  # imported lazily: only /__sandbox/scan with an image needs it

    try:
        raw = base64.b64decode(image_base64, validate=True)
        image = Image.open(io.BytesIO(raw))
        image.load()
    except (binascii.Error, ValueError, OSError) as exc:
        raise InvalidRequest("image_base64 is not a base64 PNG or JPEG image.") from exc
    results = zxingcpp.read_barcodes(image)
    if not results:
        raise InvalidRequest("No QR code was found in the image.")
    return str(results[0].text)


def launch_for(payload: str) -> dict[str, Any]:
    """What the mini program receives when the code is scanned (wechat-api.md §4.4)."""
    try:
        data = json.loads(payload)
    except ValueError:
        data = None
    if not isinstance(data, dict) or data.get("kind") != PAYLOAD_KIND:
        raise InvalidRequest("This is not a mini program code issued by the sandbox.")
    scene = str(data.get("scene", ""))
    encoded = quote(scene, safe="!'()*-._~")  # encodeURIComponent's unescaped set
    page = str(data.get("page", ""))
    return {
        "appid": data.get("appid"),
        "page": page,
        "scene": scene,
        "env_version": data.get("env_version"),
        "launch_scene": LAUNCH_SCENE_SCAN,
        "query": {"scene": encoded},
        "path": f"{page}?scene={encoded}",
    }
