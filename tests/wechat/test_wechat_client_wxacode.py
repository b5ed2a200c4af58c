"""getwxacodeunlimit: a real, decodable code image, and WeChat's argument errors."""

from __future__ import annotations

import base64
import io
import json
from typing import Any

import pytest
import zxingcpp
from PIL import Image
from wechat_testkit import APPID, SECRET, Sandbox

from shared.wechat import WeChatClient, WeChatInvalidArgument, WeChatRateLimited, image_type

PAGE = "pages/login/login"


def _decode(image: bytes) -> dict[str, Any]:
    results = zxingcpp.read_barcodes(Image.open(io.BytesIO(image)))
    assert len(results) == 1
    payload: dict[str, Any] = json.loads(results[0].text)
    return payload


async def test_code_image_decodes_to_the_scene_page_and_app(
    sandbox: Sandbox, wechat: WeChatClient
) -> None:
    image = await wechat.get_wxacode_unlimit(APPID, SECRET, "t8Kq2ZfA9xLmN3pR7sVw1Y", PAGE)
    assert image_type(image) == "image/png"
    assert Image.open(io.BytesIO(image)).size == (430, 430)
    assert _decode(image) == {
        "kind": "wxacode",
        "appid": APPID,
        "page": PAGE,
        "scene": "t8Kq2ZfA9xLmN3pR7sVw1Y",
        "env_version": "release",
    }


async def test_code_image_is_served_with_the_observed_jpeg_header(sandbox: Sandbox) -> None:
    token = await sandbox.token()
    status, content_type, body = await sandbox.raw(
        "POST",
        "/wxa/getwxacodeunlimit",
        params={"access_token": token},
        json_body={"scene": "abc", "page": PAGE},
    )
    assert status == 200
    assert content_type == "image/jpeg"
    assert body.startswith(b"\x89PNG")


async def test_jpeg_images_and_options_are_honoured(sandbox: Sandbox, wechat: WeChatClient) -> None:
    await sandbox.configure(image_format="jpeg")
    image = await wechat.get_wxacode_unlimit(
        APPID,
        SECRET,
        "a=1&b=2",
        "pages/anything",
        "develop",
        check_path=False,
        width=2000,
        line_color={"r": 7, "g": 193, "b": 96},
    )
    assert image_type(image) == "image/jpeg"
    assert Image.open(io.BytesIO(image)).size == (1280, 1280)  # clamped
    decoded = _decode(image)
    assert (decoded["scene"], decoded["page"], decoded["env_version"]) == (
        "a=1&b=2",
        "pages/anything",
        "develop",
    )


async def test_transparent_code_is_png_with_alpha(sandbox: Sandbox, wechat: WeChatClient) -> None:
    image = await wechat.get_wxacode_unlimit(APPID, SECRET, "xyz", PAGE, is_hyaline=True)
    assert image_type(image) == "image/png"
    assert Image.open(io.BytesIO(image)).mode == "RGBA"


async def test_page_defaults_to_the_home_page(sandbox: Sandbox, wechat: WeChatClient) -> None:
    image = await wechat.get_wxacode_unlimit(APPID, SECRET, "home")
    assert _decode(image)["page"] == sandbox.state.apps[APPID].pages[0]


@pytest.mark.parametrize(
    ("scene", "page", "env_version", "check_path", "errcode"),
    [
        ("", PAGE, "release", True, 40169),
        ("x" * 33, PAGE, "release", True, 40169),
        ("100%", PAGE, "release", True, 40129),
        ("张伟", PAGE, "release", True, 40129),
        ("a b", PAGE, "release", True, 40129),
        ("abc", "pages/missing/missing", "release", True, 41030),
        ("abc", "/pages/login/login", "release", False, 41030),
        ("abc", "pages/login/login?x=1", "release", False, 41030),
        ("abc", PAGE, "release_error", True, 40097),
        ("scancode_time=1", PAGE, "release", True, 85096),
    ],
)
async def test_invalid_arguments_are_refused_with_wechats_errcode(
    sandbox: Sandbox,
    wechat: WeChatClient,
    scene: str,
    page: str,
    env_version: str,
    check_path: bool,
    errcode: int,
) -> None:
    with pytest.raises(WeChatInvalidArgument) as caught:
        await wechat.get_wxacode_unlimit(
            APPID, SECRET, scene, page, env_version, check_path=check_path
        )
    assert caught.value.errcode == errcode
    assert caught.value.rid is not None


async def test_scene_of_32_allowed_characters_is_accepted(
    sandbox: Sandbox, wechat: WeChatClient
) -> None:
    scene = "09AZaz!#$&'()*+,/:;=?@-._~abcdef"
    assert len(scene) == 32
    image = await wechat.get_wxacode_unlimit(APPID, SECRET, scene, PAGE)
    assert _decode(image)["scene"] == scene


async def test_more_than_the_minute_limit_per_app_is_45009(
    sandbox: Sandbox, wechat: WeChatClient
) -> None:
    await sandbox.configure(wxacode_minute_limit=2)
    for _ in range(2):
        await wechat.get_wxacode_unlimit(APPID, SECRET, "abc", PAGE)
    with pytest.raises(WeChatRateLimited) as caught:
        await wechat.get_wxacode_unlimit(APPID, SECRET, "abc", PAGE)
    assert caught.value.errcode == 45009
    await sandbox.advance(60)
    await wechat.get_wxacode_unlimit(APPID, SECRET, "abc", PAGE)


async def test_scanning_the_image_launches_the_page_with_an_encoded_scene(
    sandbox: Sandbox, wechat: WeChatClient
) -> None:
    image = await wechat.get_wxacode_unlimit(APPID, SECRET, "id=7&x=a/b", PAGE)
    launch = await sandbox.control(
        "POST", "scan", {"image_base64": base64.b64encode(image).decode()}
    )
    assert launch == {
        "appid": APPID,
        "page": PAGE,
        "scene": "id=7&x=a/b",
        "env_version": "release",
        "launch_scene": 1047,
        "query": {"scene": "id%3D7%26x%3Da%2Fb"},
        "path": f"{PAGE}?scene=id%3D7%26x%3Da%2Fb",
    }
