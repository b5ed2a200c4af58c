"""The fast path for the codes qr-issuer draws all day: one URL shape, fixed length.

A ticket URL is ``<public url>/q/<22 characters>``, so every code of a deployment has the
same byte length, hence the same version, layout and position of every data and ECC bit.
Reed-Solomon is linear over GF(2), so for mask k the symbol is

    C[k] XOR (XOR of the module sets toggled by each set bit of the URL)

where C[k] is the symbol of an all-zero URL of that length. A ``MatrixTemplate`` holds C
and the toggle sets as row and column bit words (one uint64 per line, n <= 61), so a
symbol costs one fancy index and one XOR reduction, and the ISO 18004 penalties of all
eight masks are counted with shifts and popcounts on those words.

Only byte mode is used (decoders accept any valid segmentation), so the version may be one
above what an optimising segmenter would pick for URLs with long upper-case or digit runs.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from qrcode import base as qr_base
from qrcode import util as qr_util
from qrcode.constants import ERROR_CORRECT_H

from qr_issuer.qr_png._symbol import candidates, layout

BoolArray = npt.NDArray[np.bool_]
U64Array = npt.NDArray[np.uint64]
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


# --------------------------------------------------------------------------- codewords


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


def build_matrix_template(length: int, version: int) -> MatrixTemplate:
    """The template for URLs of `length` bytes at `version` (at most MAX_FAST_VERSION)."""
    data_order = layout(version).data_order
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
    """ISO 18004 N1..N4 for (k, 2n) line words (rows then columns), as ``_symbol`` scores.

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
