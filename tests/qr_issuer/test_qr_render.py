"""QR rendering for the `url` kind: decodes back to the URL, with and without a logo."""

from __future__ import annotations

import asyncio
import base64
import io
import re
import string
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import numpy.typing as npt
import pytest
import qrcode
import zxingcpp
from PIL import Image, ImageDraw
from qrcode import util as qr_util
from qrcode.constants import ERROR_CORRECT_H

from qr_issuer.qr_render import (
    LOGO_BOX_FRACTION,
    MAX_LOGO_BYTES,
    QrRenderer,
    qr_matrix,
)

BASE = "https://login.example.com/q/"
URL = BASE + "AbCdEf0123456789xyzABC"


def make_url(total_len: int, seed: int = 0) -> str:
    rng = np.random.default_rng(seed)
    alphabet = string.ascii_letters + string.digits + "-_"
    token = "".join(rng.choice(list(alphabet), size=total_len - len(BASE)).tolist())
    return BASE + token


URL_LENGTHS = [32, 44, 60, 64, 80, 120]


def png_bytes(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def colourful_logo(width: int = 160, height: int = 160) -> bytes:
    """A hue gradient with shapes and transparent corners: many colours, some alpha."""
    x = np.linspace(0, 255, width, dtype=np.float64)
    y = np.linspace(0, 255, height, dtype=np.float64)[:, None]
    rgb = np.stack(
        [
            np.broadcast_to(x, (height, width)),
            np.broadcast_to(y, (height, width)),
            np.broadcast_to(255 - (x + y) / 2, (height, width)),
        ],
        axis=-1,
    ).astype(np.uint8)
    img = Image.fromarray(rgb, "RGB").convert("RGBA")
    draw = ImageDraw.Draw(img)
    draw.ellipse((width // 4, height // 4, 3 * width // 4, 3 * height // 4), fill=(10, 10, 10))
    draw.rectangle((width // 3, height // 3, width // 2, height // 2), fill=(250, 200, 0))
    for corner in ((0, 0), (width - 12, 0), (0, height - 12), (width - 12, height - 12)):
        draw.rectangle((*corner, corner[0] + 11, corner[1] + 11), fill=(0, 0, 0, 0))
    return png_bytes(img)


@pytest.fixture(scope="module")
def logo() -> bytes:
    return colourful_logo()


@pytest.fixture
def renderer() -> QrRenderer:
    return QrRenderer()


def decode(png: bytes) -> list[str]:
    results = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
    assert all(r.format == zxingcpp.BarcodeFormat.QRCode for r in results)
    return [r.text for r in results]


# ---------------------------------------------------------------- decoding


@pytest.mark.parametrize("length", URL_LENGTHS)
def test_png_without_logo_decodes_to_the_exact_url(renderer: QrRenderer, length: int) -> None:
    url = make_url(length, seed=length)
    assert decode(renderer.render_png(url, None)) == [url]


@pytest.mark.parametrize("length", URL_LENGTHS)
def test_png_with_a_colourful_logo_still_decodes_to_the_exact_url(
    renderer: QrRenderer, logo: bytes, length: int
) -> None:
    url = make_url(length, seed=length)
    assert decode(renderer.render_png(url, logo)) == [url]


@pytest.mark.parametrize(("scale", "border"), [(3, 4), (4, 2), (12, 4)])
def test_png_with_logo_decodes_at_other_scales_and_borders(
    renderer: QrRenderer, logo: bytes, scale: int, border: int
) -> None:
    png = renderer.render_png(URL, logo, scale=scale, border=border)
    n = qr_matrix(URL).shape[0]
    assert Image.open(io.BytesIO(png)).size == ((n + 2 * border) * scale,) * 2
    assert decode(png) == [URL]


def test_wide_logo_keeps_its_aspect_ratio_and_decodes(renderer: QrRenderer) -> None:
    wide = colourful_logo(300, 90)
    assert decode(renderer.render_png(URL, wide)) == [URL]


def test_png_is_one_bit_without_logo_and_palette_with_logo(
    renderer: QrRenderer, logo: bytes
) -> None:
    assert Image.open(io.BytesIO(renderer.render_png(URL, None))).mode == "1"
    assert Image.open(io.BytesIO(renderer.render_png(URL, logo))).mode == "P"


def test_logo_pad_is_centred_white_and_at_most_22_percent_of_the_symbol(
    renderer: QrRenderer, logo: bytes
) -> None:
    scale, border = 8, 4
    n = qr_matrix(URL).shape[0]
    png = renderer.render_png(URL, logo, scale=scale, border=border)
    rgb = np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(np.int16)
    black_or_white = np.all(rgb == 0, axis=-1) | np.all(rgb == 255, axis=-1)
    ys, xs = np.nonzero(~black_or_white)
    box_w, box_h = xs.max() - xs.min() + 1, ys.max() - ys.min() + 1
    assert max(box_w, box_h) <= LOGO_BOX_FRACTION * n * scale
    side = rgb.shape[0]
    centre = (xs.min() + xs.max()) / 2, (ys.min() + ys.max()) / 2
    assert abs(centre[0] - side / 2) <= 2
    assert abs(centre[1] - side / 2) <= 2
    # The pad around the logo is white: a pixel just inside the pad's top edge midpoint.
    box = int(LOGO_BOX_FRACTION * n * scale)
    top = (side - box) // 2
    assert rgb[top + 1, side // 2].tolist() == [255, 255, 255]


# ---------------------------------------------------------------- matrix


@pytest.mark.parametrize("length", [20, 64, 120, 300])
@pytest.mark.parametrize("mask", range(8))
def test_matrix_equals_qrcodes_own_for_each_mask_pattern(length: int, mask: int) -> None:
    url = make_url(max(length, len(BASE) + 1), seed=mask)
    ref = qrcode.QRCode(error_correction=ERROR_CORRECT_H, border=0, mask_pattern=mask)
    ref.add_data(url)
    ref.make()
    assert np.array_equal(qr_matrix(url, mask=mask), np.array(ref.get_matrix(), dtype=bool))


@pytest.mark.parametrize("length", URL_LENGTHS)
def test_chosen_mask_has_the_lowest_penalty_by_qrcodes_scoring(length: int) -> None:
    url = make_url(length, seed=length + 1)
    chosen = qr_util.lost_point(qr_matrix(url).tolist())
    assert chosen == min(qr_util.lost_point(qr_matrix(url, mask=m).tolist()) for m in range(8))


@pytest.mark.parametrize("url", ["", "x" * 5000])
def test_empty_or_oversized_url_is_rejected(renderer: QrRenderer, url: str) -> None:
    with pytest.raises(ValueError, match=r"^invalid_url$"):
        renderer.render_png(url, None)


# ---------------------------------------------------------------- SVG


def svg_parts(svg: bytes) -> tuple[list[str], list[str]]:
    text = svg.decode("ascii")
    return re.findall(r"<path [^>]*>", text), re.findall(r"<image [^>]*>", text)


def test_svg_without_logo_has_all_modules_in_one_path_and_no_image(
    renderer: QrRenderer,
) -> None:
    svg = renderer.render_svg(URL, None)
    paths, images = svg_parts(svg)
    assert len(paths) == 1
    assert images == []
    assert svg.startswith(b"<?xml")
    assert svg.rstrip().endswith(b"</svg>")


def test_svg_path_covers_exactly_the_dark_modules(renderer: QrRenderer) -> None:
    matrix = qr_matrix(URL)
    (path,) = svg_parts(renderer.render_svg(URL, None, border=0))[0]
    painted = np.zeros_like(matrix)
    for x, y, w in re.findall(r"M(\d+) (\d+)h(\d+)v1h-\d+z", path):
        painted[int(y), int(x) : int(x) + int(w)] = True
    assert np.array_equal(painted, matrix)


def test_svg_embeds_the_prepared_logo_as_a_base64_png(renderer: QrRenderer, logo: bytes) -> None:
    paths, images = svg_parts(renderer.render_svg(URL, logo))
    assert len(paths) == 1
    (image,) = images
    match = re.search(r'href="data:image/png;base64,([A-Za-z0-9+/=]+)"', image)
    assert match is not None
    embedded = Image.open(io.BytesIO(base64.b64decode(match.group(1))))
    assert embedded.format == "PNG"
    assert embedded.mode == "RGBA"
    assert embedded.width == embedded.height


@pytest.fixture(scope="module")
def svg2png() -> Callable[..., bytes]:
    try:  # optional test dependency; needs the system's libcairo
        import cairosvg
    except (ImportError, OSError) as exc:
        pytest.skip(f"cairosvg unavailable: {exc}")
    convert: Callable[..., bytes] = cairosvg.svg2png
    return convert


@pytest.mark.parametrize("with_logo", [False, True])
def test_svg_rasterised_by_cairosvg_decodes_to_the_exact_url(
    renderer: QrRenderer, logo: bytes, svg2png: Callable[..., bytes], with_logo: bool
) -> None:
    url = make_url(64, seed=7)
    png = svg2png(bytestring=renderer.render_svg(url, logo if with_logo else None))
    assert decode(png) == [url]


# ---------------------------------------------------------------- invalid logos


def huge_dimension_png() -> bytes:
    return png_bytes(Image.new("L", (5000, 2), 255))


def truncated_png() -> bytes:
    data = colourful_logo()
    return data[: len(data) // 2]


@pytest.mark.parametrize(
    "bad",
    [
        pytest.param(b"", id="empty"),
        pytest.param(b"not an image at all", id="text"),
        pytest.param(b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, id="png-signature-only"),
        pytest.param(truncated_png(), id="truncated"),
        pytest.param(huge_dimension_png(), id="over-4096px"),
        pytest.param(b"\x00" * (MAX_LOGO_BYTES + 1), id="over-2MB"),
        pytest.param(b"%PDF-1.4\n" + b"0" * 100, id="pdf"),
    ],
)
def test_invalid_logo_bytes_raise_value_error_invalid_logo(
    renderer: QrRenderer, bad: bytes
) -> None:
    with pytest.raises(ValueError, match=r"^invalid_logo$"):
        renderer.render_png(URL, bad)
    with pytest.raises(ValueError, match=r"^invalid_logo$"):
        renderer.render_svg(URL, bad)
    assert renderer.cache_info().currsize == 0


def test_jpeg_logo_is_accepted(renderer: QrRenderer) -> None:
    buf = io.BytesIO()
    Image.open(io.BytesIO(colourful_logo())).convert("RGB").save(buf, format="JPEG")
    assert decode(renderer.render_png(URL, buf.getvalue())) == [URL]


# ---------------------------------------------------------------- cache


def test_logo_cache_is_hit_on_the_second_render(renderer: QrRenderer, logo: bytes) -> None:
    renderer.render_png(URL, logo)
    info = renderer.cache_info()
    assert (info.hits, info.misses, info.currsize) == (0, 1, 1)
    renderer.render_png(make_url(len(URL), seed=3), logo)  # another URL, same size
    info = renderer.cache_info()
    assert (info.hits, info.misses, info.currsize) == (1, 1, 1)


def test_logo_cache_keys_on_target_size(renderer: QrRenderer, logo: bytes) -> None:
    renderer.render_png(URL, logo, scale=8)
    renderer.render_png(URL, logo, scale=4)
    assert renderer.cache_info().misses == 2
    assert renderer.cache_info().currsize == 2


def test_logo_cache_evicts_the_least_recently_used_entry(logo: bytes) -> None:
    renderer = QrRenderer(max_logo_cache=2)
    other = colourful_logo(120, 120)
    third = colourful_logo(100, 100)
    renderer.render_png(URL, logo)
    renderer.render_png(URL, other)
    renderer.render_png(URL, logo)  # logo is now most recent
    renderer.render_png(URL, third)  # evicts other
    assert renderer.cache_info().currsize == 2
    renderer.render_png(URL, logo)
    assert renderer.cache_info().hits == 2
    renderer.render_png(URL, other)
    assert renderer.cache_info().misses == 4


def test_rendering_with_a_cached_logo_gives_identical_bytes(
    renderer: QrRenderer, logo: bytes
) -> None:
    first = renderer.render_png(URL, logo)
    assert renderer.render_png(URL, logo) == first
    assert QrRenderer(max_logo_cache=0).render_png(URL, logo) == first


# ---------------------------------------------------------------- async


async def test_async_render_returns_the_same_bytes_as_sync(
    renderer: QrRenderer, logo: bytes
) -> None:
    expected = renderer.render_png(URL, logo, scale=6)
    assert await renderer.render_png_async(URL, logo, scale=6) == expected


async def test_async_render_uses_the_given_executor_and_runs_concurrently(
    renderer: QrRenderer, logo: bytes
) -> None:
    urls = [make_url(60, seed=s) for s in range(6)]
    with ThreadPoolExecutor(max_workers=3, thread_name_prefix="qr-test") as pool:
        pngs = await asyncio.gather(
            *(renderer.render_png_async(u, logo, executor=pool) for u in urls)
        )
    assert [decode(p) for p in pngs] == [[u] for u in urls]
    assert pngs == [renderer.render_png(u, logo) for u in urls]


async def test_async_render_propagates_invalid_logo(renderer: QrRenderer) -> None:
    with pytest.raises(ValueError, match=r"^invalid_logo$"):
        await renderer.render_png_async(URL, b"garbage")


def test_non_bytes_logo_raises_value_error_invalid_logo(renderer: QrRenderer) -> None:
    with pytest.raises(ValueError, match=r"^invalid_logo$"):
        renderer.render_png(URL, "logo.png")  # type: ignore[arg-type]


# ---------------------------------------------------------------- templates (the fast path)

TICKET_BASE = "http://127.0.0.1:8000/q/"
BASE62 = string.digits + string.ascii_letters


def ticket_urls(count: int, seed: int, base: str = TICKET_BASE) -> list[str]:
    """What qr-issuer draws all day: one prefix, 22 random base62 characters."""
    rng = np.random.default_rng(seed)
    return [base + "".join(rng.choice(list(BASE62), size=22).tolist()) for _ in range(count)]


def expected_pixels(url: str, scale: int, border: int) -> npt.NDArray[np.bool_]:
    """True = light, from the reference matrix (qrcode's segmentation and masks)."""
    light = np.pad(~qr_matrix(url), border, constant_values=True)
    return np.repeat(np.repeat(light, scale, axis=0), scale, axis=1)


def test_many_random_ticket_urls_decode_with_and_without_logo(
    renderer: QrRenderer, logo: bytes
) -> None:
    for i, url in enumerate(ticket_urls(120, seed=11)):
        assert decode(renderer.render_png(url, logo if i % 2 else None)) == [url]


def test_template_symbol_is_the_reference_symbol_for_ticket_urls(renderer: QrRenderer) -> None:
    """Same version, codewords and mask choice (by penalty) as qr_matrix."""
    for base in (TICKET_BASE, "https://login.example.com/q/", "http://10.0.0.7:31337/q/"):
        for url in ticket_urls(60, seed=len(base), base=base):
            assert np.array_equal(renderer.matrix(url), qr_matrix(url)), url


@pytest.mark.parametrize(("scale", "border"), [(8, 4), (3, 4), (5, 1), (1, 0)])
def test_png_pixels_are_exactly_the_modules_at_any_scale(
    renderer: QrRenderer, scale: int, border: int
) -> None:
    for url in ticket_urls(5, seed=scale):
        png = Image.open(io.BytesIO(renderer.render_png(url, None, scale=scale, border=border)))
        png.load()  # inflates the stream and checks its Adler-32 and CRCs
        assert np.array_equal(np.asarray(png, dtype=bool), expected_pixels(url, scale, border))


def test_logo_png_pixels_outside_the_pad_are_exactly_the_modules(
    renderer: QrRenderer, logo: bytes
) -> None:
    scale, border = 8, 4
    for url in ticket_urls(5, seed=5):
        png = Image.open(io.BytesIO(renderer.render_png(url, logo, scale=scale, border=border)))
        rgb = np.asarray(png.convert("RGB"))
        want = expected_pixels(url, scale, border)
        side = want.shape[0]
        box = int(LOGO_BOX_FRACTION * (side - 2 * border * scale))
        top = (side - box) // 2
        outside = np.ones_like(want)
        outside[top : top + box, top : top + box] = False
        assert np.array_equal(rgb[outside].all(axis=-1), want[outside])
        assert np.array_equal((rgb[outside] == 0).all(axis=-1), ~want[outside])


def test_urls_too_long_for_a_template_still_render_and_decode(renderer: QrRenderer) -> None:
    url = make_url(300, seed=4)  # past version 11: drawn by qr_matrix
    assert decode(renderer.render_png(url, None)) == [url]
    assert np.array_equal(renderer.matrix(url), qr_matrix(url))


def test_non_ascii_url_renders_and_decodes(renderer: QrRenderer) -> None:
    url = "https://例え.example/q/" + "x" * 22
    assert decode(renderer.render_png(url, None)) == [url]


def test_template_cache_is_bounded(logo: bytes) -> None:
    renderer = QrRenderer(max_templates=3)
    for length in range(40, 52):  # twelve URL lengths, each its own template
        renderer.render_png(make_url(length, seed=length), None)
    for size in (60, 70, 80, 90):  # four logos
        renderer.render_png(URL, colourful_logo(size, size))
    info = renderer.template_cache_info()
    assert info.maxsize == 9  # three matrices, three pictures, three prefixes
    assert info.currsize <= info.maxsize
    # Still correct after evictions.
    url = make_url(41, seed=41)
    assert decode(renderer.render_png(url, logo)) == [url]


def test_a_warm_renderer_says_so_and_draws_identical_bytes(
    renderer: QrRenderer, logo: bytes
) -> None:
    first, second = ticket_urls(2, seed=9)
    assert not renderer.is_warm(first, logo)
    cold = renderer.render_png(first, logo)
    assert renderer.is_warm(second, logo)
    assert not renderer.is_warm(second, None)  # the plain picture is not built yet
    assert renderer.render_png(first, logo) == cold
    assert QrRenderer().render_png(first, logo) == cold
