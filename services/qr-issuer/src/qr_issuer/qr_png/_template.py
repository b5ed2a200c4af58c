"""The fast path for the codes qr-issuer draws all day: one URL shape, fixed length.

A ticket URL is ``<public url>/q/<22 characters>``, so every code of a deployment has the
same byte length, hence the same version, layout and position of every data and ECC bit.
Reed-Solomon is linear over GF(2), so for mask k the symbol is

    C[k] XOR (XOR of the module sets toggled by each set bit of the URL)

where C[k] is the symbol of an all-zero URL of that length. A ``MatrixTemplate`` holds C
and the toggle sets as row and column bit words (one uint64 per line, n <= 61), so a
symbol costs one fancy index and one XOR reduction, and the ISO 18004 penalties of all
eight masks are counted with shifts and popcounts on those words.

The PNG side works the same way: a ``DeflateTemplate`` is a zlib stream worked out once
per picture layout (size, scale, border, logo) from symbolic pixels, copying wherever the
copy holds for every colouring (a module's 8 pixels, a row repeated `scale` times). What
is left of a module is, in an 8-bit palette picture, a fixed-Huffman literal 0 (dark) or
1 (light), two codes that differ in one bit; in a 1-bit picture, raw bytes in a stored
block. Either way a picture is the template's bytes with bits set for the light modules,
and the Adler-32 of the pixels is a dot product: no compression work per code.

Only byte mode is used (decoders accept any valid segmentation), so the version may be one
above what an optimising segmenter would pick for URLs with long upper-case or digit runs.
"""

from __future__ import annotations

import bisect
import functools
import struct
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from qrcode import base as qr_base
from qrcode import util as qr_util
from qrcode.constants import ERROR_CORRECT_H

BoolArray = npt.NDArray[np.bool_]
U8Array = npt.NDArray[np.uint8]
U64Array = npt.NDArray[np.uint64]
IntArray = npt.NDArray[np.intp]
I64Array = npt.NDArray[np.int64]

MAX_FAST_VERSION = 11  # n = 61: a line still fits one uint64 word

# --------------------------------------------------------------------------- GF(256)

_EXP = [0] * 512
_LOG = [0] * 256
_x = 1
for _i in range(255):
    _EXP[_i] = _x
    _LOG[_x] = _i
    _x <<= 1
    if _x & 0x100:
        _x ^= 0x11D
for _i in range(255, 512):
    _EXP[_i] = _EXP[_i - 255]


def _gmul(a: int, b: int) -> int:
    return 0 if a == 0 or b == 0 else _EXP[_LOG[a] + _LOG[b]]


def _generator(ec: int) -> list[int]:
    """Coefficients (highest degree first, leading 1) of prod (x - a^i), i < ec."""
    g = [1]
    for i in range(ec):
        nxt = [*g, 0]
        for j, c in enumerate(g):
            nxt[j + 1] ^= _gmul(c, _EXP[i])
        g = nxt
    return g


def _ecc_bit_matrix(dc: int, ec: int) -> BoolArray:
    """(8 dc, 8 ec): the ECC bits each data bit of one block flips (RS is GF(2)-linear)."""
    g = _generator(ec)[1:]
    # rem[k] = x^(ec + k) mod g, for the data codeword at distance k from the block's end
    rems = [list(g)]
    for _ in range(dc - 1):
        prev = rems[-1]
        top = prev[0]
        nxt = [*prev[1:], 0]
        nxt = [v ^ _gmul(top, gc) for v, gc in zip(nxt, g, strict=True)]
        rems.append(nxt)
    out = np.zeros((8 * dc, 8 * ec), dtype=np.bool_)
    for p in range(dc):
        rem = rems[dc - 1 - p]
        for b in range(8):  # bit b counted from the codeword's MSB, as placed
            ecc = bytes(_gmul(c, 0x80 >> b) for c in rem)
            out[8 * p + b] = np.unpackbits(np.frombuffer(ecc, dtype=np.uint8)).astype(np.bool_)
    return out


# --------------------------------------------------------------------------- versions


def byte_mode_version(length: int) -> int | None:
    """Smallest level-H version holding `length` bytes in one byte-mode segment."""
    for version in range(1, 41):
        capacity = sum(b.data_count for b in qr_base.rs_blocks(version, ERROR_CORRECT_H)) * 8
        if 4 + qr_util.length_in_bits(qr_util.MODE_8BIT_BYTE, version) + 8 * length <= capacity:
            return version
    return None


def _codeword_bit_matrix(version: int) -> BoolArray:
    """(data bits, all codeword bits): which interleaved codeword bits each data bit flips."""
    blocks = qr_base.rs_blocks(version, ERROR_CORRECT_H)
    dcs = [b.data_count for b in blocks]
    ecs = [b.total_count - b.data_count for b in blocks]
    total = sum(b.total_count for b in blocks)
    # Interleaving order: position of (block, index) in the codeword sequence.
    data_pos: dict[tuple[int, int], int] = {}
    ecc_pos: dict[tuple[int, int], int] = {}
    pos = 0
    for i in range(max(dcs)):
        for blk, dc in enumerate(dcs):
            if i < dc:
                data_pos[blk, i] = pos
                pos += 1
    for i in range(max(ecs)):
        for blk, ec in enumerate(ecs):
            if i < ec:
                ecc_pos[blk, i] = pos
                pos += 1
    out = np.zeros((8 * sum(dcs), 8 * total), dtype=np.bool_)
    cache: dict[tuple[int, int], BoolArray] = {}
    row = 0
    for blk, (dc, ec) in enumerate(zip(dcs, ecs, strict=True)):
        ecc = cache.get((dc, ec))
        if ecc is None:
            ecc = cache[dc, ec] = _ecc_bit_matrix(dc, ec)
        ecc_cols = np.array(
            [8 * ecc_pos[blk, i] + b for i in range(ec) for b in range(8)], dtype=np.intp
        )
        for i in range(dc):
            for b in range(8):
                out[row, 8 * data_pos[blk, i] + b] = True
                out[row, ecc_cols] ^= ecc[8 * i + b]
                row += 1
    return out


def _zero_url_data_bits(length: int, version: int, capacity: int) -> BoolArray:
    """The data bits (as qrcode's create_data lays them out) of `length` zero bytes."""
    buf = qr_util.BitBuffer()
    buf.put(qr_util.MODE_8BIT_BYTE, 4)
    buf.put(length, qr_util.length_in_bits(qr_util.MODE_8BIT_BYTE, version))
    for _ in range(length):
        buf.put(0, 8)
    for _ in range(min(capacity - len(buf), 4)):  # terminator
        buf.put_bit(False)
    while len(buf) % 8:
        buf.put_bit(False)
    for i in range((capacity - len(buf)) // 8):
        buf.put(qr_util.PAD0 if i % 2 == 0 else qr_util.PAD1, 8)
    return np.unpackbits(np.array(buf.buffer, dtype=np.uint8)).astype(np.bool_)


# --------------------------------------------------------------------------- symbols


def _pack_lines(m: BoolArray) -> U64Array:
    """(..., n, n) bools -> (..., n) uint64 words, bit j of word r = module (r, j)."""
    n = m.shape[-1]
    padded = np.zeros((*m.shape[:-1], 64), dtype=np.bool_)
    padded[..., :n] = m
    words = np.packbits(padded, axis=-1, bitorder="little").view("<u8")
    return np.ascontiguousarray(words[..., 0]).astype(np.uint64)


def unpack_rows(rows: U64Array, n: int) -> BoolArray:
    bits = np.unpackbits(rows.astype("<u8").view(np.uint8), bitorder="little")
    return bits.reshape(-1, 64)[:, :n].astype(np.bool_)


@dataclass(frozen=True, slots=True)
class MatrixTemplate:
    """Every symbol for URLs of `length` bytes, as XORs of precomputed line words."""

    length: int
    version: int
    n: int
    const: U64Array  # (8, 2n): rows then columns of the all-zero-URL symbol per mask
    toggles: U64Array  # (8 * length, 2n): rows then columns each URL bit flips

    def lines(self, data: bytes, start: int = 0, base: U64Array | None = None) -> U64Array:
        """(8, 2n) line words of the eight masked candidates for `data`.

        `base` is ``lines(data[:start] + zero bytes)``, kept by the caller for a URL prefix
        it sees often: then only the bits after `start` are looked up (half the memory
        traffic for a ticket URL, which matters more than the arithmetic)."""
        if base is None:
            base, start = self.const, 0
        tail = np.frombuffer(data, dtype=np.uint8, offset=start)
        bits = np.unpackbits(tail).view(np.bool_)
        flips = np.bitwise_xor.reduce(self.toggles[8 * start :][bits], axis=0)
        return np.asarray(base ^ flips, dtype=np.uint64)


Candidates = Callable[[int, list[int]], BoolArray]


def build_matrix_template(
    length: int, version: int, candidates: Candidates, data_order: IntArray
) -> MatrixTemplate:
    """`candidates(version, codewords)` gives the eight masked symbols (qr_render's), and
    `data_order` the module of each codeword bit in placement order."""
    cw_bits = _codeword_bit_matrix(version)
    data_bits = _zero_url_data_bits(length, version, cw_bits.shape[0])
    zero_cw = np.bitwise_xor.reduce(cw_bits[data_bits], axis=0)  # RS of the zero URL
    const_syms = candidates(version, np.packbits(zero_cw).tolist())
    n = const_syms.shape[-1]

    offset = 4 + qr_util.length_in_bits(qr_util.MODE_8BIT_BYTE, version)  # mode, count
    url_cw = cw_bits[offset : offset + 8 * length]  # (8L, codeword bits)
    toggled = np.zeros((8 * length, n * n), dtype=np.bool_)
    usable = min(url_cw.shape[1], data_order.size)
    toggled[:, data_order[:usable]] = url_cw[:, :usable]
    sq = toggled.reshape(-1, n, n)
    toggles = np.concatenate([_pack_lines(sq), _pack_lines(sq.transpose(0, 2, 1))], axis=1)
    const = np.concatenate(
        [_pack_lines(const_syms), _pack_lines(const_syms.transpose(0, 2, 1))], axis=1
    )
    for arr in (const, toggles):
        arr.setflags(write=False)
    return MatrixTemplate(length, version, n, const, toggles)


# --------------------------------------------------------------------------- penalties

_U = tuple(np.uint64(i) for i in range(8))


def penalties(lines: U64Array, n: int) -> I64Array:
    """ISO 18004 N1..N4 for (k, 2n) line words (rows then columns), as qr_render scores.

    Bit j of a word is module j of the line, so ``w >> t`` lines module j + t up with j."""
    _, u1, u2, u3, u4, u5, u6, u7 = _U
    w = lines
    z = ~w
    # N1: each run of L >= 5 equal modules costs L - 2 = (windows of 5 in it) + 2.
    same = ~(w ^ (w >> u1)) & np.uint64((1 << (n - 1)) - 1)  # modules j, j + 1 agree
    two = same & (same >> u1)
    five = two & (two >> u2)  # modules j .. j + 4 agree
    starts = five & ~(five << u1)
    # N2: 2x2 blocks of one colour, rows only.
    srow = same[:, :n]
    rows = w[:, :n]
    block = srow[:, :-1] & srow[:, 1:] & ~(rows[:, :-1] ^ rows[:, 1:])
    # N3: 1011101 with four light modules before or after it (never both at one j).
    core = w & (w >> u2) & (w >> u3) & (w >> u4) & (w >> u6) & (z >> u1) & (z >> u5)
    zz = z & (z >> u1)
    light4 = zz & (zz >> u2)
    finder = ((core & (light4 >> u7)) | (light4 & (core >> u4))) & np.uint64((1 << (n - 10)) - 1)
    # One popcount and one weighted sum for all of them: per numpy call, not per bit,
    # is where the time goes at this size.
    counts = np.bitwise_count(np.concatenate([five, starts, finder, block, rows], axis=1))
    n123, dark = (counts.astype(np.int64) @ _penalty_weights(n)).T
    n4 = 10 * (np.abs(dark * 20 - 10 * n * n) // (n * n))
    return np.asarray(n123 + n4, dtype=np.int64)


@functools.cache
def _penalty_weights(n: int) -> I64Array:
    """Per popcount column: N1 windows (x1), N1 run starts (x2), N3 (x40), N2 (x3); and
    in the second column the dark modules (the rows)."""
    w = np.zeros((8 * n - 1, 2), dtype=np.int64)
    w[: 2 * n, 0] = 1
    w[2 * n : 4 * n, 0] = 2
    w[4 * n : 6 * n, 0] = 40
    w[6 * n : 7 * n - 1, 0] = 3
    w[7 * n - 1 :, 1] = 1
    w.setflags(write=False)
    return w


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
