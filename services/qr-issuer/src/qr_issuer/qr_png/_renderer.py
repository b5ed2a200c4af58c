"""Render `url`-kind login QR codes (PNG or SVG) with the connection's logo in the centre.

Error correction is H (about 30 % of codewords recoverable); the logo sits on a white
rounded pad no wider than 22 % of the symbol, so the code still decodes.

Where the time goes. ``qr_matrix`` is the reference: qrcode segments the data and computes
the Reed-Solomon codewords, the layout per version is built once with numpy, and all eight
masked candidates are scored with vectorised ISO 18004 penalty rules. ``QrRenderer``
draws from templates instead (``qr_fast``): every ticket URL of a deployment has the same
byte length, so its symbol is a cached constant XOR the module sets its bits flip, and its
PNG is a cached zlib stream with one bit per light module to set. The same eight masks are
scored the same way, so the symbol equals ``qr_matrix``'s for byte-mode URLs.
The decoded, resized, padded and quantised logo is cached per (sha256, box size).

Measured with ``timeit`` loops (best of 7 x 500; Python 3.11, numpy 2.4, Pillow, qrcode
8.2) for a 46-char ticket URL (version 6, 41x41 modules), scale 8, border 4, warm caches,
on a 2-vCPU VM:

    qr_matrix (reference: qrcode RS + 8 masks)   794 us
    renderer.matrix (template, 8 masks scored)    53 us
    render_png, no logo (1-bit PNG, 2.2 kB)       68 us   (was 943 us)
    render_png, demo logo (8-bit P, 7.6 kB)       74 us   (was 1322 us)
    render_png, 128x128 RGBA logo                 76 us   (was 1357 us)
    render_svg, no logo                          209 us   (was 963 us)
    first code of a new URL length               ~7 ms once (matrix template)
    first PNG of a new size / logo              ~45 ms once (deflate template)
"""

from __future__ import annotations

import asyncio
import base64
import functools
import hashlib
import io
import struct
import threading
import zlib
from collections import OrderedDict
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import Any, Generic, NamedTuple, TypeVar

import numpy as np
import numpy.typing as npt
import qrcode
import qrcode.exceptions
from PIL import Image, ImageDraw
from qrcode import util as qr_util
from qrcode.constants import ERROR_CORRECT_H

from qr_issuer.qr_fast import (
    MAX_FAST_VERSION,
    QR_SYMBOL,
    DeflateTemplate,
    MatrixTemplate,
    build_deflate_template,
    build_matrix_template,
    byte_mode_version,
    penalties,
    unpack_rows,
)

__all__ = ["LogoCacheInfo", "QrRenderer"]

MAX_LOGO_BYTES = 2 * 1024 * 1024
MAX_LOGO_PX = 4096
LOGO_BOX_FRACTION = 0.22  # logo pad width / symbol width (quiet zone excluded)
SVG_LOGO_SCALE = 8  # px per module of the raster logo embedded in SVGs
_LOGO_FORMATS = ("PNG", "JPEG", "WEBP", "GIF")
_MAX_URL_CHARS = 1024

BoolArray = npt.NDArray[np.bool_]
U8Array = npt.NDArray[np.uint8]
U64Array = npt.NDArray[np.uint64]
IntArray = npt.NDArray[np.intp]
K = TypeVar("K")
V = TypeVar("V")


class LogoCacheInfo(NamedTuple):
    hits: int
    misses: int
    maxsize: int
    currsize: int


# --------------------------------------------------------------------------- matrix


@dataclass(frozen=True, slots=True)
class _Layout:
    """Everything about a QR version that does not depend on the payload."""

    size: int
    base: BoolArray  # function patterns (finders, timing, alignment, version info)
    data_order: IntArray  # flat indices of data modules, in placement order
    masks: BoolArray  # (8, size, size): mask k flips these (data modules only)
    format_rows: IntArray  # (2, 15): the two copies of the 15 format bits
    format_cols: IntArray


def _mask_pattern(k: int, i: IntArray, j: IntArray) -> BoolArray:
    if k == 0:
        m = (i + j) % 2 == 0
    elif k == 1:
        m = i % 2 == 0
    elif k == 2:
        m = j % 3 == 0
    elif k == 3:
        m = (i + j) % 3 == 0
    elif k == 4:
        m = (i // 2 + j // 3) % 2 == 0
    elif k == 5:
        m = (i * j) % 2 + (i * j) % 3 == 0
    elif k == 6:
        m = ((i * j) % 2 + (i * j) % 3) % 2 == 0
    else:
        m = ((i + j) % 2 + (i * j) % 3) % 2 == 0
    return np.asarray(m, dtype=np.bool_)


@functools.cache
def _layout(version: int) -> _Layout:
    n = version * 4 + 17
    base = np.zeros((n, n), dtype=np.bool_)
    reserved = np.zeros((n, n), dtype=np.bool_)

    finder = np.ones((7, 7), dtype=np.bool_)
    finder[1:6, 1:6] = False
    finder[2:5, 2:5] = True
    for r, c in ((0, 0), (n - 7, 0), (0, n - 7)):
        base[r : r + 7, c : c + 7] = finder
    # finders + separators + format areas
    reserved[:9, :9] = True
    reserved[:9, n - 8 :] = True
    reserved[n - 8 :, :9] = True

    align = np.ones((5, 5), dtype=np.bool_)
    align[1:4, 1:4] = False
    align[2, 2] = True
    centres = qr_util.pattern_position(version)
    for r in centres:
        for c in centres:
            if reserved[r, c]:  # would overlap a finder
                continue
            base[r - 2 : r + 3, c - 2 : c + 3] = align
            reserved[r - 2 : r + 3, c - 2 : c + 3] = True

    # Timing lines agree with any alignment pattern they cross.
    timing = np.arange(n) % 2 == 0
    base[6, 8 : n - 8] = timing[8 : n - 8]
    base[8 : n - 8, 6] = timing[8 : n - 8]
    reserved[6, :] = True
    reserved[:, 6] = True

    if version >= 7:
        bits = qr_util.BCH_type_number(version)
        for i in range(18):
            dark = (bits >> i) & 1 == 1
            base[i // 3, i % 3 + n - 11] = dark
            base[i % 3 + n - 11, i // 3] = dark
        reserved[:6, n - 11 : n - 8] = True
        reserved[n - 11 : n - 8, :6] = True

    base[n - 8, 8] = True  # the always-dark module

    # Zig-zag over column pairs from the right, skipping the vertical timing column.
    order: list[int] = []
    upward = True
    col = n - 1
    while col > 0:
        if col == 6:
            col -= 1
        rows = range(n - 1, -1, -1) if upward else range(n)
        for row in rows:
            for c in (col, col - 1):
                if not reserved[row, c]:
                    order.append(row * n + c)
        upward = not upward
        col -= 2

    ri, ci = np.indices((n, n))
    data_region = ~reserved
    masks = np.stack([_mask_pattern(k, ri, ci) & data_region for k in range(8)])

    fmt_rows = np.empty((2, 15), dtype=np.intp)
    fmt_cols = np.empty((2, 15), dtype=np.intp)
    for b in range(15):
        fmt_rows[0, b], fmt_cols[0, b] = (b if b < 6 else b + 1 if b < 8 else n - 15 + b), 8
        fmt_rows[1, b] = 8
        fmt_cols[1, b] = n - b - 1 if b < 8 else (7 if b == 8 else 14 - b)

    for arr in (base, masks):
        arr.setflags(write=False)
    return _Layout(n, base, np.asarray(order, dtype=np.intp), masks, fmt_rows, fmt_cols)


@functools.cache
def _format_bits(mask: int) -> BoolArray:
    bits = qr_util.BCH_type_info((ERROR_CORRECT_H << 3) | mask)
    return np.array([(bits >> b) & 1 == 1 for b in range(15)], dtype=np.bool_)


_N3_PATTERNS = (0b10111010000, 0b00001011101)


def _penalties(cands: BoolArray) -> npt.NDArray[np.int64]:
    """ISO 18004 mask penalty N1..N4 for a stack of (k, n, n) candidate symbols."""
    k, n, _ = cands.shape
    both = np.concatenate([cands, cands.transpose(0, 2, 1)], axis=1)  # rows then columns
    a = both.astype(np.int8)  # 0/1, padded with 2s below

    # N1: runs of >= 5 same-coloured modules cost 3 + (run - 5).
    padded = np.pad(a, ((0, 0), (0, 0), (1, 1)), constant_values=2).reshape(-1)
    edges = np.flatnonzero(padded[1:] != padded[:-1])
    runs = np.diff(edges)  # the sentinel runs are at most 2 long and never count
    owner = edges[:-1] // (2 * n * (n + 2))
    n1 = np.bincount(owner, weights=np.where(runs >= 5, runs - 2, 0), minlength=k)

    # N2: each 2x2 block of one colour costs 3.
    c = cands
    same = (c[:, :-1, :-1] == c[:, 1:, :-1]) & (c[:, :-1, :-1] == c[:, :-1, 1:])
    same &= c[:, :-1, :-1] == c[:, 1:, 1:]
    n2 = 3 * same.sum(axis=(1, 2))

    # N3: finder-like 1:1:3:1:1 runs with four light modules on one side cost 40.
    b = both.astype(np.uint16)
    m = n - 10
    codes = b[..., 0:m] << 10
    for i in range(1, 11):
        codes |= b[..., i : i + m] << (10 - i)
    n3 = 40 * ((codes == _N3_PATTERNS[0]) | (codes == _N3_PATTERNS[1])).sum(axis=(1, 2))

    # N4: 10 per 5 % that the dark share deviates from 50 %.
    dark = cands.sum(axis=(1, 2))
    n4 = 10 * (np.abs(dark * 20 - 10 * n * n) // (n * n))
    return np.asarray(n1.astype(np.int64) + n2 + n3 + n4, dtype=np.int64)


def qr_matrix(url: str, *, mask: int | None = None) -> BoolArray:
    """The symbol (no quiet zone) for ``url`` at level H; True is a dark module.

    ``mask`` forces a mask pattern (then the result equals qrcode's own matrix). Otherwise
    the pattern with the lowest penalty wins, scored on the finished symbol including its
    format bits (qrcode scores with the format bits blank, so its choice may differ; both
    are valid symbols).
    """
    if not isinstance(url, str) or not url or len(url) > _MAX_URL_CHARS:
        raise ValueError("invalid_url")
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_H)
    code.add_data(url)
    try:
        version = int(code.best_fit())
    except qrcode.exceptions.DataOverflowError as exc:
        raise ValueError("invalid_url") from exc
    codewords = qr_util.create_data(version, ERROR_CORRECT_H, code.data_list)

    candidates = _candidates(version, codewords)
    if mask is not None:
        return np.ascontiguousarray(candidates[mask])
    best = int(np.argmin(_penalties(candidates)))
    return np.ascontiguousarray(candidates[best])


def _candidates(version: int, codewords: list[int]) -> BoolArray:
    """(8, n, n): the symbol with `codewords` placed, under each mask, format bits set."""
    lay = _layout(version)
    n = lay.size
    bits = np.unpackbits(np.frombuffer(bytes(codewords), dtype=np.uint8)).astype(np.bool_)
    flat = lay.base.copy().reshape(-1)
    flat[lay.data_order[: bits.size]] = bits[: lay.data_order.size]
    unmasked = flat.reshape(n, n)

    candidates = lay.masks ^ unmasked  # (8, n, n); function patterns untouched
    for k in range(8):
        fb = _format_bits(k)
        candidates[k, lay.format_rows, lay.format_cols] = fb
    return candidates


# --------------------------------------------------------------------------- logo


@dataclass(slots=True)
class _PreparedLogo:
    box: int  # side of the square pad, px
    indices: U8Array  # (box, box) palette indices; 0/1 are reserved for dark/light
    opaque: BoolArray  # (box, box) pixels the rounded pad covers
    palette: list[int]  # RGB triples for indices 2.. (at most 254 colours)
    rgba: Image.Image
    _svg_b64: str | None = field(default=None)

    def svg_b64(self) -> str:
        if self._svg_b64 is None:
            buf = io.BytesIO()
            self.rgba.save(buf, format="PNG", compress_level=6)
            self._svg_b64 = base64.b64encode(buf.getvalue()).decode("ascii")
        return self._svg_b64


def _decode_logo(data: bytes) -> Image.Image:
    if not isinstance(data, bytes | bytearray | memoryview) or len(data) > MAX_LOGO_BYTES:
        raise ValueError("invalid_logo")
    try:
        img = Image.open(io.BytesIO(data), formats=_LOGO_FORMATS)
        w, h = img.size
        if not (0 < w <= MAX_LOGO_PX and 0 < h <= MAX_LOGO_PX):
            raise ValueError("invalid_logo")
        img.load()
        return img.convert("RGBA")
    except Exception as exc:  # Pillow raises many kinds of errors for bad input
        raise ValueError("invalid_logo") from exc


def _prepare_logo(data: bytes, box: int) -> _PreparedLogo:
    src = _decode_logo(data)
    margin = max(1, round(box * 0.1))
    inner = max(1, box - 2 * margin)
    logo = src.copy()
    logo.thumbnail((inner, inner), Image.Resampling.LANCZOS)

    shape = Image.new("L", (box, box), 0)
    ImageDraw.Draw(shape).rounded_rectangle(
        (0, 0, box - 1, box - 1), radius=max(1, box // 5), fill=255
    )
    pad = Image.new("RGBA", (box, box), (255, 255, 255, 255))
    pad.alpha_composite(logo, ((box - logo.width) // 2, (box - logo.height) // 2))
    rgba = pad.copy()
    rgba.putalpha(shape)

    quant = pad.convert("RGB").quantize(colors=254, method=Image.Quantize.MEDIANCUT)
    indices = np.asarray(quant, dtype=np.uint8) + np.uint8(2)
    ncolours = int(indices.max()) - 1
    palette = (quant.getpalette() or [])[: 3 * ncolours]
    palette += [255] * (3 * ncolours - len(palette))
    opaque = np.asarray(shape, dtype=np.uint8) >= 128
    indices.setflags(write=False)
    opaque.setflags(write=False)
    return _PreparedLogo(box, indices, opaque, palette, rgba)


def _logo_box(symbol_px: int) -> int:
    return max(3, int(symbol_px * LOGO_BOX_FRACTION))


# --------------------------------------------------------------------------- PNG
# A minimal PNG writer around qr_fast's DeflateTemplate: 1-bit greyscale without a logo,
# 8-bit palette with one. Per code there is no compression work at all, only setting bits.

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _png_chunk(kind: bytes, payload: bytes) -> bytes:
    crc = zlib.crc32(payload, zlib.crc32(kind))
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", crc)


def _png_head(side: int, depth: int, colour: int, plte: bytes) -> bytes:
    header = struct.pack(">IIBBBBB", side, side, depth, colour, 0, 0, 0)
    return b"".join(
        (
            _PNG_SIGNATURE,
            _png_chunk(b"IHDR", header),
            _png_chunk(b"PLTE", plte) if plte else b"",
        )
    )


_PNG_END = _png_chunk(b"IEND", b"")


@dataclass(frozen=True, slots=True)
class _Picture:
    """Everything about a code's PNG except which modules are dark."""

    head: bytes
    deflate: DeflateTemplate

    def png(self, light: BoolArray) -> bytes:
        return self.head + _png_chunk(b"IDAT", self.deflate.zlib_stream(light)) + _PNG_END


def _symbolic_pixels(n: int, scale: int, border: int) -> IntArray:
    """Each pixel: QR_SYMBOL + its module, or 1 (light) in the quiet zone."""
    grid = np.full((n + 2 * border,) * 2, 1, dtype=np.int64)
    grid[border : border + n, border : border + n] = QR_SYMBOL + np.arange(n * n).reshape(n, n)
    return np.repeat(np.repeat(grid, scale, axis=0), scale, axis=1)


def _plain_picture(n: int, scale: int, border: int) -> _Picture:
    """1-bit greyscale: 0 is black, 1 white, as a light module's bit."""
    px = _symbolic_pixels(n, scale, border)
    return _Picture(_png_head(px.shape[0], 1, 0, b""), build_deflate_template(px, 1, n * n))


def _logo_picture(n: int, scale: int, border: int, logo: _PreparedLogo) -> _Picture:
    """8-bit palette: index 0 dark, 1 light, the logo's colours from 2."""
    px = _symbolic_pixels(n, scale, border)
    top = (px.shape[0] - logo.box) // 2
    region = px[top : top + logo.box, top : top + logo.box]
    np.copyto(region, logo.indices.astype(np.int64), where=logo.opaque)
    head = _png_head(px.shape[0], 8, 3, bytes([0, 0, 0, 255, 255, 255, *logo.palette]))
    return _Picture(head, build_deflate_template(px, 8, n * n))


# --------------------------------------------------------------------------- renderer

_MAX_TEMPLATES = 16


class LruCache(Generic[K, V]):
    """A small thread-safe LRU map with hit/miss counts."""

    def __init__(self, maxsize: int) -> None:
        self.maxsize = maxsize
        self._items: OrderedDict[K, V] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: K) -> V | None:
        with self._lock:
            hit = self._items.get(key)
            if hit is None:
                self.misses += 1
                return None
            self._items.move_to_end(key)
            self.hits += 1
            return hit

    def put(self, key: K, value: V) -> None:
        if not self.maxsize:
            return
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.maxsize:
                self._items.popitem(last=False)

    def __contains__(self, key: object) -> bool:
        with self._lock:
            return key in self._items

    def info(self) -> LogoCacheInfo:
        with self._lock:
            return LogoCacheInfo(self.hits, self.misses, self.maxsize, len(self._items))

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self.hits = self.misses = 0


class QrRenderer:
    """Renders `url` QR codes; thread-safe, so one instance can serve an executor.

    Codes whose URL has a byte length seen before (every ticket URL of a deployment) are
    drawn from cached templates in well under 0.1 ms; the first one of a length, or with
    a new logo or size, builds its templates (~7 ms for the symbol, ~45 ms for the PNG)."""

    def __init__(self, max_logo_cache: int = 128, max_templates: int = _MAX_TEMPLATES) -> None:
        if max_logo_cache < 0 or max_templates < 0:
            raise ValueError("cache sizes must be >= 0")
        self._logos: LruCache[tuple[str, int], _PreparedLogo] = LruCache(max_logo_cache)
        self._matrices: LruCache[int, MatrixTemplate | None] = LruCache(max_templates)
        self._pictures: LruCache[tuple[str, int, int, int], _Picture] = LruCache(max_templates)
        self._prefixes: LruCache[tuple[int, bytes], U64Array] = LruCache(max_templates)

    # ---- cache

    def cache_info(self) -> LogoCacheInfo:
        return self._logos.info()

    def template_cache_info(self) -> LogoCacheInfo:
        """Matrix templates (one per URL byte length), URL prefixes and logo pictures."""
        infos = [c.info() for c in (self._matrices, self._pictures, self._prefixes)]
        return LogoCacheInfo(*(sum(column) for column in zip(*infos, strict=True)))

    def cache_clear(self) -> None:
        for cache in (self._logos, self._matrices, self._pictures, self._prefixes):
            cache.clear()

    def _logo(self, data: bytes, box: int) -> tuple[str, _PreparedLogo]:
        if not isinstance(data, bytes | bytearray | memoryview) or len(data) > MAX_LOGO_BYTES:
            raise ValueError("invalid_logo")
        digest = hashlib.sha256(data).hexdigest()
        key = (digest, box)
        hit = self._logos.get(key)
        if hit is not None:
            return digest, hit
        prepared = _prepare_logo(data, box)  # outside the lock: slow, and idempotent
        self._logos.put(key, prepared)
        return digest, prepared

    def is_warm(self, url: str, logo_png: bytes | None, *, scale: int = 8, border: int = 4) -> bool:
        """Whether ``render_png`` would find its templates cached (so it is quick enough
        to run on the event loop)."""
        if not isinstance(url, str):
            return False
        length = len(url.encode())
        if length not in self._matrices:
            return False
        tmpl = self._matrices.get(length)
        if tmpl is None:
            return False
        digest = "" if logo_png is None else hashlib.sha256(logo_png).hexdigest()
        return (digest, tmpl.n, scale, border) in self._pictures

    # ---- matrix

    def matrix(self, url: str) -> BoolArray:
        """The symbol for ``url`` (True = dark): from a template when the URL fits one
        (byte mode, version <= 11), else ``qr_matrix``. Both decode to ``url``."""
        if not isinstance(url, str) or not url or len(url) > _MAX_URL_CHARS:
            raise ValueError("invalid_url")
        data = url.encode()
        tmpl = self._matrix_template(len(data))
        if tmpl is None:
            return qr_matrix(url)
        # Everything up to the last "/" is the same for every ticket of a deployment.
        start = data.rfind(b"/") + 1
        key = (len(data), data[:start])
        base = self._prefixes.get(key)
        if base is None:
            base = tmpl.lines(data[:start] + bytes(len(data) - start))
            self._prefixes.put(key, base)
        lines = tmpl.lines(data, start, base)
        best = int(np.argmin(penalties(lines, tmpl.n)))
        return unpack_rows(lines[best, : tmpl.n], tmpl.n)

    def _matrix_template(self, length: int) -> MatrixTemplate | None:
        if length in self._matrices:
            return self._matrices.get(length)
        version = byte_mode_version(length)
        tmpl = None
        if version is not None and version <= MAX_FAST_VERSION:
            tmpl = build_matrix_template(length, version, _candidates, _layout(version).data_order)
        self._matrices.put(length, tmpl)
        return tmpl

    # ---- PNG

    def render_png(
        self, url: str, logo_png: bytes | None, *, scale: int = 8, border: int = 4
    ) -> bytes:
        """PNG bytes of the QR for ``url``. Warm (see ``is_warm``) it takes tens of µs."""
        if not 1 <= scale <= 64 or not 0 <= border <= 16:
            raise ValueError("invalid_size")
        dark = self.matrix(url)
        n = dark.shape[0]
        if logo_png is None:
            key = ("", n, scale, border)
            picture = self._pictures.get(key)
            if picture is None:
                picture = _plain_picture(n, scale, border)
                self._pictures.put(key, picture)
            return picture.png(~dark)
        digest, logo = self._logo(logo_png, _logo_box(n * scale))
        key = (digest, n, scale, border)
        picture = self._pictures.get(key)
        if picture is None:
            picture = _logo_picture(n, scale, border, logo)
            self._pictures.put(key, picture)
        return picture.png(~dark)

    async def render_png_async(
        self,
        url: str,
        logo_png: bytes | None,
        *,
        executor: Executor | None = None,
        **kw: Any,
    ) -> bytes:
        """``render_png`` in ``executor`` (the loop's default one if None)."""
        loop = asyncio.get_running_loop()
        call = functools.partial(self.render_png, url, logo_png, **kw)
        return await loop.run_in_executor(executor, call)

    # ---- SVG

    def render_svg(self, url: str, logo_png: bytes | None, *, border: int = 4) -> bytes:
        """SVG bytes: one path for the dark modules, the logo as an embedded PNG."""
        if not 0 <= border <= 16:
            raise ValueError("invalid_size")
        matrix = self.matrix(url)
        n = matrix.shape[0]
        side = n + 2 * border

        # Horizontal runs of dark modules -> "M x y h w v1 h -w z" per run.
        padded = np.zeros((n, n + 2), dtype=np.int8)
        padded[:, 1:-1] = matrix
        rows, cols = np.nonzero(np.diff(padded, axis=1))  # starts and ends alternate
        starts_r, starts_c = rows[0::2], cols[0::2]
        widths = cols[1::2] - starts_c
        parts = [
            f"M{c + border} {r + border}h{w}v1h-{w}z"
            for r, c, w in zip(starts_r.tolist(), starts_c.tolist(), widths.tolist(), strict=True)
        ]
        out = [
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<svg xmlns="http://www.w3.org/2000/svg" version="1.1" viewBox="0 0 {side} {side}"'
            f' width="{side * 8}" height="{side * 8}" shape-rendering="crispEdges">'
            f'<rect width="{side}" height="{side}" fill="#fff"/>'
            f'<path fill="#000" d="{"".join(parts)}"/>'
        ]
        if logo_png is not None:
            _, logo = self._logo(logo_png, _logo_box(n * SVG_LOGO_SCALE))
            size = logo.box / SVG_LOGO_SCALE
            pos = (side - size) / 2
            out.append(
                f'<image x="{pos:.4g}" y="{pos:.4g}" width="{size:.4g}" height="{size:.4g}"'
                ' preserveAspectRatio="none"'
                f' href="data:image/png;base64,{logo.svg_b64()}"/>'
            )
        out.append("</svg>\n")
        return "".join(out).encode("ascii")
