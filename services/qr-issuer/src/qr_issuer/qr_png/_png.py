"""PNG pictures of QR symbols, with no compression work per code.

A ``DeflateTemplate`` is a zlib stream worked out once per picture layout (size, scale,
border, logo) from symbolic pixels, copying wherever the copy holds for every colouring
(a module's 8 pixels, a row repeated `scale` times). What is left of a module is, in an
8-bit palette picture, a fixed-Huffman literal 0 (dark) or 1 (light), two codes that
differ in one bit; in a 1-bit picture, raw bytes in a stored block. Either way a picture
is the template's bytes with bits set for the light modules, and the Adler-32 of the
pixels is a dot product.
"""

from __future__ import annotations

import bisect
import struct
import zlib
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from qr_issuer.qr_png._logo import PreparedLogo

BoolArray = npt.NDArray[np.bool_]
U8Array = npt.NDArray[np.uint8]
IntArray = npt.NDArray[np.intp]
I64Array = npt.NDArray[np.int64]

# --------------------------------------------------------------------------- deflate

_LEN_BASE = (3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83,
             99, 115, 131, 163, 195, 227, 258)  # fmt: skip
_LEN_EXTRA = (0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5,
              5, 0)  # fmt: skip
_DIST_BASE = (1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769,
              1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577)  # fmt: skip
_DIST_EXTRA = (0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11,
               11, 12, 12, 13, 13)  # fmt: skip
_MAX_MATCH = 258
_MAX_DIST = 32768
_ADLER_MOD = 65521
QR_SYMBOL = 256  # symbol values >= this are QR module (value - 256); below, constant bytes


class _BitWriter:
    def __init__(self) -> None:
        self.bits: list[int] = []

    def huffman(self, code: int, nbits: int) -> None:
        self.bits.extend((code >> (nbits - 1 - i)) & 1 for i in range(nbits))

    def extra_bits(self, value: int, nbits: int) -> None:
        self.bits.extend((value >> i) & 1 for i in range(nbits))

    def literal_or_length(self, sym: int) -> None:
        if sym < 144:
            self.huffman(0x30 + sym, 8)
        elif sym < 256:
            self.huffman(0x190 + sym - 144, 9)
        elif sym < 280:
            self.huffman(sym - 256, 7)
        else:
            self.huffman(0xC0 + sym - 280, 8)

    def match(self, length: int, dist: int) -> None:
        li = bisect.bisect_right(_LEN_BASE, length) - 1
        self.literal_or_length(257 + li)
        self.extra_bits(length - _LEN_BASE[li], _LEN_EXTRA[li])
        di = bisect.bisect_right(_DIST_BASE, dist) - 1
        self.huffman(di, 5)
        self.extra_bits(dist - _DIST_BASE[di], _DIST_EXTRA[di])


def _run_lengths(equal: BoolArray) -> IntArray:
    """For each i, how many consecutive True start at i."""
    size = equal.size
    stops = np.flatnonzero(~equal)
    nxt = np.searchsorted(stops, np.arange(size))
    stop_at = np.append(stops, size)[nxt]
    return np.asarray(stop_at - np.arange(size), dtype=np.intp)


@dataclass(frozen=True, slots=True)
class DeflateTemplate:
    """A zlib stream for a picture whose variable pixels are QR modules (0 dark, 1 light).

    Each entry of (byte_at, mask, module) says: stream byte `byte_at` gets `mask` OR-ed in
    when `module` is light; `raw` is what that adds to the uncompressed byte (for the
    Adler-32, through per-module weights)."""

    stream: U8Array  # with every light bit 0
    byte_at: IntArray
    mask: U8Array
    module: IntArray  # flat index into the n x n symbol
    adler_a: int  # Adler-32 sums of the picture with every module dark
    adler_b: int
    weight_a: I64Array  # (n * n,) what a light module adds to each sum
    weight_b: I64Array

    def zlib_stream(self, light: BoolArray) -> bytes:
        flat = light.reshape(-1)
        on = flat[self.module] * self.mask  # entries never share a bit, so sum == OR
        add = np.bincount(self.byte_at, weights=on, minlength=self.stream.size)
        out = self.stream | add.astype(np.uint8)
        lit = flat.astype(np.int64)
        a = (self.adler_a + int(lit @ self.weight_a)) % _ADLER_MOD
        b = (self.adler_b + int(lit @ self.weight_b)) % _ADLER_MOD
        return b"\x78\x01" + out.tobytes() + struct.pack(">I", (b << 16) | a)


_STORED_BREAK = 8  # a copy at least this long is worth closing a stored block for
_MAX_STORED = 65535


def _scanline_bytes(pixels: I64Array, depth: int) -> tuple[I64Array, I64Array, I64Array]:
    """The picture as PNG scanline bytes (filter byte 0 first on each line).

    Returns per byte: a symbol (equal symbols hold equal bytes under every colouring), the
    byte's value with every module dark, and (bytes, pixels per byte) the module of each
    of its pixels, or -1 for a constant pixel; pixel k is bit value 1 << (ppb - 1 - k)."""
    h, w = pixels.shape
    ppb = 8 // depth
    wb = -(-w // ppb)
    padded = np.zeros((h, wb * ppb), dtype=np.int64)  # a last partial byte is padded with 0
    padded[:, :w] = pixels
    px = padded.reshape(h, wb, ppb)
    qr = px >= QR_SYMBOL
    bits = (1 << np.arange(ppb - 1, -1, -1)).astype(np.int64)
    value = (np.where(qr, 0, px) * bits).sum(axis=2)
    sym = value.copy()
    mixed = qr.any(axis=2)
    if ppb == 1:
        sym[mixed] = px[mixed][:, 0]
    else:
        _, ids = np.unique(px[mixed], axis=0, return_inverse=True)
        sym[mixed] = QR_SYMBOL + ids.reshape(-1)
    out_sym = np.zeros((h, wb + 1), dtype=np.int64)  # column 0: filter type 0
    out_sym[:, 1:] = sym
    out_val = np.zeros((h, wb + 1), dtype=np.int64)
    out_val[:, 1:] = value
    modules = np.full((h, wb + 1, ppb), -1, dtype=np.int64)
    modules[:, 1:] = np.where(qr, px - QR_SYMBOL, -1)
    return out_sym.reshape(-1), out_val.reshape(-1), modules.reshape(h * (wb + 1), ppb)


def build_deflate_template(pixels: I64Array, depth: int, nmodules: int) -> DeflateTemplate:
    """Greedy LZ77 over symbolic pixels (a constant palette index / grey level, or
    QR_SYMBOL + module): a copy is taken only where it holds for every colouring, from 1
    or one scanline back. What is left: constant bytes are fixed-Huffman literals; a
    module's byte is the literal 0 or 1 (8-bit palette: the codes differ in their last
    bit), or in 1-bit pictures raw bytes in a stored block."""
    sym, value, modules = _scanline_bytes(pixels, depth)
    ppb = modules.shape[1]
    size = sym.size
    stride = size // pixels.shape[0]
    eq1 = np.zeros(size, dtype=np.bool_)
    eq1[1:] = sym[1:] == sym[:-1]
    run1 = _run_lengths(eq1)
    runs = np.zeros(size, dtype=np.intp)
    if stride <= _MAX_DIST:
        eqs = np.zeros(size, dtype=np.bool_)
        eqs[stride:] = sym[stride:] == sym[:-stride]
        runs = _run_lengths(eqs)
    variable: list[bool] = np.asarray((modules >= 0).any(axis=1)).tolist()

    w = _BitWriter()
    w.bits.extend((0, 1, 0))  # BFINAL 0, BTYPE 01: fixed Huffman
    entries: list[tuple[int, int]] = []  # (stream bit, module) of each light bit
    r1, rs, vl = run1.tolist(), runs.tolist(), value.tolist()

    def best_copy(j: int) -> tuple[int, int]:
        l1, ls = min(r1[j], _MAX_MATCH), min(rs[j], _MAX_MATCH)
        return (ls, stride) if ls >= l1 else (l1, 1)

    i = 0
    while i < size:
        length, dist = best_copy(i)
        if length >= 3:
            w.match(length, dist)
            i += length
        elif not variable[i]:
            w.literal_or_length(vl[i])
            i += 1
        elif ppb == 1:
            entries.append((len(w.bits) + 7, int(modules[i, 0])))  # 0x30 | light: 8th bit
            w.huffman(0x30, 8)
            i += 1
        else:
            end = i + 1
            while end < size and end - i < _MAX_STORED and best_copy(end)[0] < _STORED_BREAK:
                end += 1
            w.literal_or_length(256)  # end of the Huffman block
            w.bits.extend((0, 0, 0))  # BFINAL 0, BTYPE 00: stored
            w.bits.extend([0] * (-len(w.bits) % 8))
            w.extra_bits(end - i, 16)
            w.extra_bits(0xFFFF ^ (end - i), 16)
            for j in range(i, end):
                base = len(w.bits)
                for k, m in enumerate(modules[j].tolist()):
                    if m >= 0:
                        entries.append((base + ppb - 1 - k, m))
                w.extra_bits(vl[j], 8)
            w.bits.extend((0, 1, 0))  # back to fixed Huffman
            i = end
    w.literal_or_length(256)
    w.bits.extend((1, 1, 0))  # an empty final block
    w.literal_or_length(256)
    stream = np.packbits(np.array(w.bits, dtype=np.uint8), bitorder="little")

    pos = np.array([e[0] for e in entries], dtype=np.intp)
    module = np.array([e[1] for e in entries], dtype=np.intp)
    # Adler-32: A = 1 + sum(d_i), B = N + sum((N - i) d_i), both mod 65521.
    weight = (size - np.arange(size, dtype=np.int64)) % _ADLER_MOD
    adler_a = (1 + int(value.sum())) % _ADLER_MOD
    adler_b = (size + int((weight * value % _ADLER_MOD).sum())) % _ADLER_MOD
    byte_of, k_of = np.nonzero(modules >= 0)
    mod_of = modules[byte_of, k_of]
    bit_of = (1 << (ppb - 1 - k_of)).astype(np.int64)
    weight_a = np.bincount(mod_of, weights=bit_of, minlength=nmodules).astype(np.int64)
    wb = np.bincount(
        mod_of, weights=bit_of * weight[byte_of] % _ADLER_MOD, minlength=nmodules
    ).astype(np.int64)
    # Several entries of one module in one stream byte become one (8 pixels of a module).
    key = (pos >> 3) * nmodules + module
    uniq, inverse = np.unique(key, return_inverse=True)
    masks = np.zeros(uniq.size, dtype=np.int64)
    np.bitwise_or.at(masks, inverse, (1 << (pos & 7)).astype(np.int64))
    for arr in (stream, weight_a, wb):
        arr.setflags(write=False)
    return DeflateTemplate(
        stream,
        (uniq // nmodules).astype(np.intp),
        masks.astype(np.uint8),
        (uniq % nmodules).astype(np.intp),
        adler_a,
        adler_b,
        weight_a % _ADLER_MOD,
        wb % _ADLER_MOD,
    )


# --------------------------------------------------------------------------- PNG
# A minimal PNG writer around DeflateTemplate: 1-bit greyscale without a logo, 8-bit
# palette with one.

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
class Picture:
    """Everything about a code's PNG except which modules are dark."""

    head: bytes
    deflate: DeflateTemplate

    def png(self, light: BoolArray) -> bytes:
        return self.head + _png_chunk(b"IDAT", self.deflate.zlib_stream(light)) + _PNG_END


def _symbolic_pixels(n: int, scale: int, border: int) -> I64Array:
    """Each pixel: QR_SYMBOL + its module, or 1 (light) in the quiet zone."""
    grid = np.full((n + 2 * border,) * 2, 1, dtype=np.int64)
    grid[border : border + n, border : border + n] = QR_SYMBOL + np.arange(n * n).reshape(n, n)
    return np.repeat(np.repeat(grid, scale, axis=0), scale, axis=1)


def plain_picture(n: int, scale: int, border: int) -> Picture:
    """1-bit greyscale: 0 is black, 1 white, as a light module's bit."""
    px = _symbolic_pixels(n, scale, border)
    return Picture(_png_head(px.shape[0], 1, 0, b""), build_deflate_template(px, 1, n * n))


def logo_picture(n: int, scale: int, border: int, logo: PreparedLogo) -> Picture:
    """8-bit palette: index 0 dark, 1 light, the logo's colours from 2."""
    px = _symbolic_pixels(n, scale, border)
    top = (px.shape[0] - logo.box) // 2
    region = px[top : top + logo.box, top : top + logo.box]
    np.copyto(region, logo.indices.astype(np.int64), where=logo.opaque)
    head = _png_head(px.shape[0], 8, 3, bytes([0, 0, 0, 255, 255, 255, *logo.palette]))
    return Picture(head, build_deflate_template(px, 8, n * n))
