"""Login QR codes as PNG: every module is the reference symbol's (qrcode's public API),
zxing-cpp decodes them back to the URL with and without a logo, and the caches stay
bounded."""

from __future__ import annotations

import io
import string
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import numpy.typing as npt
import pytest
import zxingcpp
from PIL import Image, ImageDraw
from qr_reference import light_pixels, masked_symbols, reference_symbol

from qr_issuer import qr_png
from qr_issuer.qr_png._renderer import Renderer

BASE = "https://login.example.com/q/"
URL = BASE + "AbCdEf0123456789xyzABC"
LOGO_BOX_FRACTION = 0.22  # the pad's width / the symbol's, at most
MAX_LOGO_BYTES = 2 * 1024 * 1024

BoolArray = npt.NDArray[np.bool_]


def make_url(total_len: int, seed: int = 0) -> str:
    rng = np.random.default_rng(seed)
    alphabet = string.ascii_letters + string.digits + "-_"
    token = "".join(rng.choice(list(alphabet), size=total_len - len(BASE)).tolist())
    return (BASE + token)[:total_len]


URL_LENGTHS = [32, 44, 60, 64, 80, 120]
# Every version from 1 (with level H, up to 7 bytes) to past the templates (version 11,
# 90 bytes), around the steps between versions, and long URLs drawn the slow way.
REFERENCE_LENGTHS = [1, 7, 8, 14, 15, 24, 25, 34, 35, 44, 45, 58, 59, 64, 65, 84, 85, 90, 91,
                     93, 100, 122, 160, 230, 300, 400]  # fmt: skip

TICKET_BASES = ("http://127.0.0.1:8000/q/", BASE, "http://10.0.0.7:31337/q/")
BASE62 = string.digits + string.ascii_letters


def ticket_urls(count: int, seed: int, base: str = TICKET_BASES[0]) -> list[str]:
    """What qr-issuer draws all day: one prefix, 22 random base62 characters."""
    rng = np.random.default_rng(seed)
    return [base + "".join(rng.choice(list(BASE62), size=22).tolist()) for _ in range(count)]


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
def fresh(monkeypatch: pytest.MonkeyPatch) -> Renderer:
    """The public calls on a renderer with empty caches, for what depends on them."""
    renderer = Renderer()
    monkeypatch.setattr(qr_png, "_RENDERER", renderer)
    return renderer


def decode(png: bytes) -> list[str]:
    results = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
    assert all(r.format == zxingcpp.BarcodeFormat.QRCode for r in results)
    return [r.text for r in results]


def pixels(png: bytes) -> npt.NDArray[np.uint8]:
    """RGB pixels; loading also inflates the stream and checks its Adler-32 and CRCs."""
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))


def outside_the_pad(side: int, scale: int, border: int) -> BoolArray:
    """The pixels a logo pad of the largest allowed size cannot cover."""
    box = int(LOGO_BOX_FRACTION * (side - 2 * border * scale))
    top = (side - box) // 2
    outside = np.ones((side, side), dtype=np.bool_)
    outside[top : top + box, top : top + box] = False
    return outside


def light_pixels_of(png: bytes, *, scale: int, border: int) -> BoolArray:
    """The modules of a plain code, True = light, read at each module's top-left pixel."""
    light: BoolArray = (pixels(png) == 255).all(axis=-1)
    inner = slice(border * scale, light.shape[0] - border * scale, scale)
    return np.ascontiguousarray(light[inner, inner])


def assert_is_the_reference(url: str, png: bytes, *, logo: bool, scale: int, border: int) -> None:
    """Pixel for pixel the reference symbol: all of them, or all outside the logo pad."""
    rgb = pixels(png)
    want = light_pixels(url, scale, border)
    assert rgb.shape[:2] == want.shape, url
    where = outside_the_pad(want.shape[0], scale, border) if logo else np.ones_like(want)
    white = (rgb == 255).all(axis=-1)[where]
    black = (rgb == 0).all(axis=-1)[where]
    assert np.array_equal(white, want[where]), url
    assert np.array_equal(black, ~want[where]), url


# ---------------------------------------------------------------- decoding


@pytest.mark.parametrize("length", URL_LENGTHS)
@pytest.mark.parametrize("with_logo", [False, True])
def test_png_decodes_to_the_exact_url(logo: bytes, length: int, with_logo: bool) -> None:
    url = make_url(length, seed=length)
    assert decode(qr_png.render_png(url, logo if with_logo else None)) == [url]


@pytest.mark.parametrize(("scale", "border"), [(3, 4), (4, 2), (12, 4)])
def test_png_with_logo_decodes_at_other_scales_and_borders(
    logo: bytes, scale: int, border: int
) -> None:
    png = qr_png.render_png(URL, logo, scale=scale, border=border)
    n = reference_symbol(URL).shape[0]
    assert Image.open(io.BytesIO(png)).size == ((n + 2 * border) * scale,) * 2
    assert decode(png) == [URL]


def test_wide_logo_keeps_its_aspect_ratio_and_decodes() -> None:
    assert decode(qr_png.render_png(URL, colourful_logo(300, 90))) == [URL]


def test_png_is_one_bit_without_logo_and_palette_with_logo(logo: bytes) -> None:
    assert Image.open(io.BytesIO(qr_png.render_png(URL, None))).mode == "1"
    assert Image.open(io.BytesIO(qr_png.render_png(URL, logo))).mode == "P"


def test_logo_pad_is_centred_white_and_at_most_22_percent_of_the_symbol(logo: bytes) -> None:
    scale = 8
    n = reference_symbol(URL).shape[0]
    rgb = pixels(qr_png.render_png(URL, logo, scale=scale, border=4)).astype(np.int16)
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


def test_many_random_ticket_urls_decode_with_and_without_logo(logo: bytes) -> None:
    for i, url in enumerate(ticket_urls(120, seed=11)):
        assert decode(qr_png.render_png(url, logo if i % 2 else None)) == [url]


def test_non_ascii_url_renders_and_decodes() -> None:
    url = "https://例え.example/q/" + "x" * 22
    assert decode(qr_png.render_png(url, None)) == [url]


# ---------------------------------------------------------------- against qrcode's public API


@pytest.mark.parametrize("length", REFERENCE_LENGTHS)
def test_every_module_is_the_reference_symbols_with_and_without_logo(
    logo: bytes, length: int
) -> None:
    url = make_url(length, seed=length) if length > len(BASE) else "h" * length
    plain = qr_png.render_png(url, None)
    drawn = ~light_pixels_of(plain, scale=8, border=4)
    # First the codewords and layout (one of the eight masked symbols), then the mask.
    assert any(np.array_equal(drawn, s) for s in masked_symbols(url)), url
    assert_is_the_reference(url, plain, logo=False, scale=8, border=4)
    assert_is_the_reference(url, qr_png.render_png(url, logo), logo=True, scale=8, border=4)
    assert decode(plain) == [url]


@pytest.mark.parametrize("base", TICKET_BASES)
def test_ticket_url_symbols_are_the_reference_symbols(logo: bytes, base: str) -> None:
    for i, url in enumerate(ticket_urls(16, seed=len(base), base=base)):
        png = qr_png.render_png(url, logo if i % 3 == 0 else None)
        assert_is_the_reference(url, png, logo=i % 3 == 0, scale=8, border=4)


@pytest.mark.parametrize(("scale", "border"), [(8, 4), (3, 4), (5, 1), (1, 0)])
def test_png_pixels_are_exactly_the_modules_at_any_scale(scale: int, border: int) -> None:
    for url in ticket_urls(4, seed=scale):
        png = qr_png.render_png(url, None, scale=scale, border=border)
        assert_is_the_reference(url, png, logo=False, scale=scale, border=border)


@pytest.mark.parametrize(("scale", "border"), [(8, 4), (3, 2)])
def test_logo_png_pixels_outside_the_pad_are_exactly_the_modules(
    logo: bytes, scale: int, border: int
) -> None:
    for url in ticket_urls(4, seed=5):
        png = qr_png.render_png(url, logo, scale=scale, border=border)
        assert_is_the_reference(url, png, logo=True, scale=scale, border=border)


# ---------------------------------------------------------------- refused input


@pytest.mark.parametrize(
    "url",
    [
        pytest.param("", id="empty"),
        pytest.param("x" * 1025, id="over-1024-chars"),
        pytest.param("例" * 1000, id="too-many-bytes-for-a-qr-code"),
    ],
)
def test_empty_or_oversized_url_is_rejected(url: str) -> None:
    with pytest.raises(ValueError, match=r"^invalid_url$"):
        qr_png.render_png(url, None)


@pytest.mark.parametrize(("scale", "border"), [(0, 4), (65, 4), (8, -1), (8, 17)])
def test_out_of_range_size_is_rejected(scale: int, border: int) -> None:
    with pytest.raises(ValueError, match=r"^invalid_size$"):
        qr_png.render_png(URL, None, scale=scale, border=border)


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
        pytest.param(b"\x00" * (MAX_LOGO_BYTES + 1), id="over-2MiB"),
        pytest.param(b"%PDF-1.4\n" + b"0" * 100, id="pdf"),
        pytest.param("logo.png", id="not-bytes"),
    ],
)
def test_invalid_logo_raises_value_error_invalid_logo(fresh: Renderer, bad: bytes) -> None:
    with pytest.raises(ValueError, match=r"^invalid_logo$"):
        qr_png.render_png(URL, bad)
    assert not qr_png.is_warm(URL, bad)
    assert fresh.logos.currsize == 0  # nothing half-prepared is kept


def test_jpeg_logo_is_accepted() -> None:
    buf = io.BytesIO()
    Image.open(io.BytesIO(colourful_logo())).convert("RGB").save(buf, format="JPEG")
    assert decode(qr_png.render_png(URL, buf.getvalue())) == [URL]


# ---------------------------------------------------------------- caches


def test_a_warm_renderer_says_so_and_draws_the_same_bytes_as_a_cold_one(
    fresh: Renderer, logo: bytes
) -> None:
    first, second = ticket_urls(2, seed=9)
    assert not qr_png.is_warm(first, logo)
    cold = qr_png.render_png(first, logo)
    assert qr_png.is_warm(second, logo)  # another ticket: same length, same logo
    assert not qr_png.is_warm(second, None)  # the plain picture is not built yet
    assert not qr_png.is_warm(second, logo, scale=4)
    assert qr_png.render_png(first, logo) == cold
    assert Renderer().render_png(first, logo, scale=8, border=4) == cold


def test_every_cache_keeps_its_bound_and_drops_the_least_recently_used() -> None:
    renderer = Renderer(max_templates=2, max_logos=2)
    logos = [colourful_logo(size, size) for size in (60, 70, 80, 90)]
    url = ticket_urls(1, seed=1)[0]
    for length in range(40, 52):  # twelve URL lengths, each its own matrix template
        renderer.render_png(make_url(length, seed=length), None, scale=8, border=4)
    renderer.render_png(url, logos[0], scale=8, border=4)
    renderer.render_png(url, logos[1], scale=8, border=4)
    renderer.render_png(url, logos[0], scale=8, border=4)  # now the most recent
    renderer.render_png(url, logos[2], scale=8, border=4)  # drops logos[1]'s picture
    for cache in (renderer.matrices, renderer.prefixes, renderer.pictures, renderer.logos):
        assert cache.currsize == cache.maxsize == 2
    warm = [renderer.is_warm(url, lg, scale=8, border=4) for lg in logos]
    assert warm == [True, False, True, False]
    # Still correct after evictions.
    for lg in logos:
        png = renderer.render_png(url, lg, scale=8, border=4)
        assert_is_the_reference(url, png, logo=True, scale=8, border=4)


def test_threads_drawing_at_once_get_the_same_codes_as_one_at_a_time(
    fresh: Renderer, logo: bytes
) -> None:
    urls = [u for base in TICKET_BASES for u in ticket_urls(8, seed=3, base=base)]
    logos = [logo if i % 2 else None for i in range(len(urls))]
    with ThreadPoolExecutor(max_workers=4) as pool:
        together = list(pool.map(qr_png.render_png, urls, logos))
    alone = Renderer()
    assert together == [
        alone.render_png(u, lg, scale=8, border=4) for u, lg in zip(urls, logos, strict=True)
    ]
    assert [decode(png) for png in together] == [[u] for u in urls]
