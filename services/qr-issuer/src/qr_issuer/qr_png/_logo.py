"""A connection's logo, decoded once and made ready to paint into codes of one size."""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from PIL import Image, ImageDraw

MAX_LOGO_BYTES = 2 * 1024 * 1024
MAX_LOGO_PX = 4096
LOGO_BOX_FRACTION = 0.22  # logo pad width / symbol width (quiet zone excluded)
_LOGO_FORMATS = ("PNG", "JPEG", "WEBP", "GIF")

BoolArray = npt.NDArray[np.bool_]
U8Array = npt.NDArray[np.uint8]


@dataclass(frozen=True, slots=True)
class PreparedLogo:
    box: int  # side of the square pad, px
    indices: U8Array  # (box, box) palette indices; 0/1 are reserved for dark/light
    opaque: BoolArray  # (box, box) pixels the rounded pad covers
    palette: list[int]  # RGB triples for indices 2.. (at most 254 colours)


def check_logo_bytes(data: object) -> None:
    """Refuse what is not worth hashing or decoding (ValueError ``invalid_logo``)."""
    if not isinstance(data, bytes | bytearray | memoryview) or len(data) > MAX_LOGO_BYTES:
        raise ValueError("invalid_logo")


def _decode_logo(data: bytes) -> Image.Image:
    check_logo_bytes(data)
    try:
        img = Image.open(io.BytesIO(data), formats=_LOGO_FORMATS)
        w, h = img.size
        if not (0 < w <= MAX_LOGO_PX and 0 < h <= MAX_LOGO_PX):
            raise ValueError("invalid_logo")
        img.load()
        return img.convert("RGBA")
    except Exception as exc:  # Pillow raises many kinds of errors for bad input
        raise ValueError("invalid_logo") from exc


def logo_box(symbol_px: int) -> int:
    """Side of the logo's pad in a symbol `symbol_px` wide (quiet zone excluded)."""
    return max(3, int(symbol_px * LOGO_BOX_FRACTION))


def prepare_logo(data: bytes, box: int) -> PreparedLogo:
    """Fit the logo on a white rounded pad `box` px wide, quantised to 254 colours."""
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

    quant = pad.convert("RGB").quantize(colors=254, method=Image.Quantize.MEDIANCUT)
    indices = np.asarray(quant, dtype=np.uint8) + np.uint8(2)
    ncolours = int(indices.max()) - 1
    palette = (quant.getpalette() or [])[: 3 * ncolours]
    palette += [255] * (3 * ncolours - len(palette))
    opaque = np.asarray(shape, dtype=np.uint8) >= 128
    indices.setflags(write=False)
    opaque.setflags(write=False)
    return PreparedLogo(box, indices, opaque, palette)
