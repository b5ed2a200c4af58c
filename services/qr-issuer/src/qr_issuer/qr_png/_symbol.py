"""The QR symbol at level H, byte mode: module layout per version, the eight masked
candidates, and the slow path for URLs too long for a template (see ``_template``)."""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from qrcode import base as qr_base
from qrcode import util as qr_util
from qrcode.constants import ERROR_CORRECT_H

BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.intp]


@functools.cache
def _byte_capacities() -> tuple[int, ...]:
    """Per version 1..40 at level H: how many bytes one byte-mode segment can hold."""
    out = []
    for version in range(1, 41):
        bits = sum(b.data_count for b in qr_base.rs_blocks(version, ERROR_CORRECT_H)) * 8
        out.append((bits - 4 - qr_util.length_in_bits(qr_util.MODE_8BIT_BYTE, version)) // 8)
    return tuple(out)


def byte_mode_version(length: int) -> int | None:
    """Smallest level-H version holding `length` bytes in one byte-mode segment."""
    for version, capacity in enumerate(_byte_capacities(), start=1):
        if length <= capacity:
            return version
    return None


@dataclass(frozen=True, slots=True)
class Layout:
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
def layout(version: int) -> Layout:
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
    return Layout(n, base, np.asarray(order, dtype=np.intp), masks, fmt_rows, fmt_cols)


@functools.cache
def _format_bits(mask: int) -> BoolArray:
    bits = qr_util.BCH_type_info((ERROR_CORRECT_H << 3) | mask)
    return np.array([(bits >> b) & 1 == 1 for b in range(15)], dtype=np.bool_)


def candidates(version: int, codewords: list[int]) -> BoolArray:
    """(8, n, n): the symbol with `codewords` placed, under each mask, format bits set."""
    lay = layout(version)
    n = lay.size
    bits = np.unpackbits(np.frombuffer(bytes(codewords), dtype=np.uint8)).astype(np.bool_)
    flat = lay.base.copy().reshape(-1)
    flat[lay.data_order[: bits.size]] = bits[: lay.data_order.size]
    unmasked = flat.reshape(n, n)

    cands = lay.masks ^ unmasked  # (8, n, n); function patterns untouched
    for k in range(8):
        cands[k, lay.format_rows, lay.format_cols] = _format_bits(k)
    return cands


_N3_PATTERNS = (0b10111010000, 0b00001011101)


def _penalties(cands: BoolArray) -> npt.NDArray[np.int64]:
    """ISO 18004 mask penalty N1..N4 for a stack of (k, n, n) candidate symbols; the same
    rules as ``_template.penalties``, on module arrays (any size) instead of words."""
    k, n, _ = cands.shape
    both = np.concatenate([cands, cands.transpose(0, 2, 1)], axis=1)  # rows then columns
    a = both.astype(np.int8)

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


def slow_symbol(data: bytes) -> BoolArray:
    """The symbol for `data` in one byte-mode segment (True is dark), for versions past
    the templates' reach: about 1 ms, qrcode computes the Reed-Solomon codewords."""
    version = byte_mode_version(len(data))
    if version is None:
        raise ValueError("invalid_url")
    segment = qr_util.QRData(data, mode=qr_util.MODE_8BIT_BYTE)
    codewords = qr_util.create_data(version, ERROR_CORRECT_H, [segment])
    cands = candidates(version, codewords)
    return np.ascontiguousarray(cands[int(np.argmin(_penalties(cands)))])
