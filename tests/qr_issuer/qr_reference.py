"""A slow, plain reference for the codes qr-issuer draws, on qrcode's public API only.

The symbol under each of the eight mask patterns comes from ``qrcode.QRCode`` (the URL as
one byte-mode segment, as the renderer writes it); the pattern is the one with the lowest
ISO 18004 penalty, written out here line by line (the first one on a tie). qrcode's own
choice scores the symbols with their format bits left blank, so it may pick another mask.
"""

from __future__ import annotations

import functools
import re
from fractions import Fraction

import numpy as np
import numpy.typing as npt
import qrcode

BoolArray = npt.NDArray[np.bool_]

_FINDER_LIKE = ("10111010000", "00001011101")  # 1:1:3:1:1 with four light modules aside


def masked_symbols(url: str) -> list[BoolArray]:
    """The symbol for ``url`` at level H under mask patterns 0..7; True is dark."""
    out = []
    for mask in range(8):
        code = qrcode.QRCode(error_correction=qrcode.ERROR_CORRECT_H, border=0, mask_pattern=mask)
        code.add_data(url.encode(), optimize=0)  # no mode switching: one segment
        code.make(fit=True)
        out.append(np.array(code.get_matrix(), dtype=np.bool_))
    return out


def penalty(symbol: BoolArray) -> int:
    """N1 (runs of 5+), N2 (2x2 blocks), N3 (finder-like patterns), N4 (dark share)."""
    n = symbol.shape[0]
    score = 0
    for line in (*symbol, *symbol.T):
        text = "".join("1" if dark else "0" for dark in line.tolist())
        for run in re.finditer(r"0+|1+", text):
            if len(run.group()) >= 5:
                score += 3 + len(run.group()) - 5
        for pattern in _FINDER_LIKE:
            score += 40 * sum(text.startswith(pattern, i) for i in range(n))
    corner = symbol[:-1, :-1]
    one_colour = (corner == symbol[1:, :-1]) & (corner == symbol[:-1, 1:])
    one_colour &= corner == symbol[1:, 1:]
    score += 3 * int(one_colour.sum())
    dark_percent = Fraction(100 * int(symbol.sum()), n * n)
    score += 10 * int(abs(dark_percent - 50) // 5)
    return score


@functools.cache
def reference_symbol(url: str) -> BoolArray:
    """The symbol a renderer choosing the mask by penalty draws for ``url``."""
    symbols = masked_symbols(url)
    best = min(range(8), key=lambda k: penalty(symbols[k]))
    return symbols[best]


def light_pixels(url: str, scale: int, border: int) -> BoolArray:
    """The picture of the reference symbol, True = light, quiet zone included."""
    light = np.pad(~reference_symbol(url), border, constant_values=True)
    return np.repeat(np.repeat(light, scale, axis=0), scale, axis=1)
