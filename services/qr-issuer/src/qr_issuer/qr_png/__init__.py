"""Login QR codes as PNG: level H, the connection's logo on a white pad in the centre.

The pad is at most 22 % of the symbol wide; level H recovers about 30 % of the codewords,
so the code still decodes. Without a logo the PNG is 1-bit greyscale, with one an 8-bit
palette picture.

Where the time goes. Every ticket URL of a deployment has the same byte length, so its
symbol is a cached constant XOR the module sets its bits flip, the eight masks are scored
on bit words (``_template``), and its PNG is a cached zlib stream with one bit per light
module to set (``_png``). Longer URLs (past version 11) take the slow path: qrcode's
Reed-Solomon and numpy (``_symbol``). Only byte mode is used. The encoder leans on
qrcode's undocumented helpers (``rs_blocks``, ``create_data``, ``QRData``,
``pattern_position``, the BCH codes), hence the upper bound on qrcode in pyproject.toml;
the tests check every symbol against qrcode's public API.

Measured with ``timeit`` (best of 7 x 500; Python 3.11, numpy 2.4, Pillow, qrcode 8.2)
for a 46-char ticket URL (version 6, 41x41 modules), scale 8, border 4, warm caches, on
a 2-vCPU VM:

    no logo (1-bit PNG, 2.2 kB)                 68 us
    demo logo (8-bit P, 7.6 kB)                 74 us
    128x128 RGBA logo                           76 us
    first code of a new URL length             ~7 ms once (matrix template)
    first PNG of a new size / logo            ~45 ms once (deflate template)

(Taken on an idle machine before the encoder became this package; old and new code timed
side by side in one process on a busy one differed by no more than the noise, +-7 %.)
"""

from __future__ import annotations

from qr_issuer.qr_png._renderer import Renderer

__all__ = ["is_warm", "render_png"]

# One per process: the caches are what makes a code cheap, and they are bounded.
_RENDERER = Renderer()


def render_png(url: str, logo: bytes | None, *, scale: int = 8, border: int = 4) -> bytes:
    """The PNG of the QR code holding ``url``, with ``logo`` (PNG, JPEG, WebP or GIF
    bytes) in the centre, ``scale`` px per module and a quiet zone of ``border`` modules.

    ValueError ``invalid_url`` (empty, over 1024 characters or too long for a QR code),
    ``invalid_logo`` (not a readable image, over 2 MiB or 4096 px) or ``invalid_size``.
    Thread-safe; warm (see ``is_warm``) it takes well under 0.1 ms."""
    return _RENDERER.render_png(url, logo, scale=scale, border=border)


def is_warm(url: str, logo: bytes | None, *, scale: int = 8, border: int = 4) -> bool:
    """Whether ``render_png`` would draw from cached templates, so it is quicker than a
    hop to a thread pool; the first code of a URL length or logo takes up to ~50 ms."""
    return _RENDERER.is_warm(url, logo, scale=scale, border=border)
