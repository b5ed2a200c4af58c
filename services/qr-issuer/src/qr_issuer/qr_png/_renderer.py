"""The renderer and its caches: matrix templates per URL length, the symbol of each URL
prefix, PNG pictures per layout and logo, and prepared logos."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Hashable
from typing import TypeVar

import numpy as np
import numpy.typing as npt
from cachetools import LRUCache

from qr_issuer.qr_png._logo import PreparedLogo, check_logo_bytes, logo_box, prepare_logo
from qr_issuer.qr_png._png import Picture, logo_picture, plain_picture
from qr_issuer.qr_png._symbol import byte_mode_version, slow_symbol
from qr_issuer.qr_png._template import (
    MAX_FAST_VERSION,
    MatrixTemplate,
    build_matrix_template,
    penalties,
    unpack_rows,
)

BoolArray = npt.NDArray[np.bool_]
U64Array = npt.NDArray[np.uint64]
K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

MAX_URL_CHARS = 1024
MAX_TEMPLATES = 16  # per kind; a deployment uses one URL length and a few logos
MAX_LOGOS = 128


class Renderer:
    """Thread-safe: the service draws on the event loop and in a small thread pool.

    Templates are built outside the lock (slow, and the same whichever thread wins), so
    two threads may build one at the same time; the lock only guards the LRU order."""

    def __init__(self, *, max_templates: int = MAX_TEMPLATES, max_logos: int = MAX_LOGOS) -> None:
        self._lock = threading.Lock()
        self.matrices: LRUCache[int, MatrixTemplate | None] = LRUCache(max_templates)
        self.prefixes: LRUCache[tuple[int, bytes], U64Array] = LRUCache(max_templates)
        self.pictures: LRUCache[tuple[str, int, int, int], Picture] = LRUCache(max_templates)
        self.logos: LRUCache[tuple[str, int], PreparedLogo] = LRUCache(max_logos)

    def _cached(self, cache: LRUCache[K, V], key: K, build: Callable[[], V]) -> V:
        with self._lock:
            try:
                return cache[key]
            except KeyError:
                pass
        value = build()
        with self._lock:
            cache[key] = value
        return value

    # ---- symbol

    def symbol(self, url: str) -> BoolArray:
        """The symbol for ``url`` (True = dark), from a template when it fits one."""
        if not isinstance(url, str) or not url or len(url) > MAX_URL_CHARS:
            raise ValueError("invalid_url")
        data = url.encode()
        tmpl = self._cached(self.matrices, len(data), lambda: _matrix_template(len(data)))
        if tmpl is None:
            return slow_symbol(data)
        # Everything up to the last "/" is the same for every ticket of a deployment.
        start = data.rfind(b"/") + 1
        base = self._cached(
            self.prefixes,
            (len(data), data[:start]),
            lambda: tmpl.lines(data[:start] + bytes(len(data) - start)),
        )
        lines = tmpl.lines(data, start, base)
        best = int(np.argmin(penalties(lines, tmpl.n)))
        return unpack_rows(lines[best, : tmpl.n], tmpl.n)

    # ---- PNG

    def render_png(self, url: str, logo: bytes | None, *, scale: int, border: int) -> bytes:
        if not 1 <= scale <= 64 or not 0 <= border <= 16:
            raise ValueError("invalid_size")
        dark = self.symbol(url)
        n = dark.shape[0]
        if logo is None:
            picture = self._cached(
                self.pictures, ("", n, scale, border), lambda: plain_picture(n, scale, border)
            )
            return picture.png(~dark)
        check_logo_bytes(logo)
        digest = hashlib.sha256(logo).hexdigest()
        box = logo_box(n * scale)
        prepared = self._cached(self.logos, (digest, box), lambda: prepare_logo(logo, box))
        picture = self._cached(
            self.pictures,
            (digest, n, scale, border),
            lambda: logo_picture(n, scale, border, prepared),
        )
        return picture.png(~dark)

    def is_warm(self, url: str, logo: bytes | None, *, scale: int, border: int) -> bool:
        if not isinstance(url, str):
            return False
        if logo is not None and not isinstance(logo, bytes | bytearray | memoryview):
            return False
        with self._lock:
            tmpl = self.matrices.get(len(url.encode()))
        if tmpl is None:
            return False
        digest = "" if logo is None else hashlib.sha256(logo).hexdigest()
        with self._lock:
            return (digest, tmpl.n, scale, border) in self.pictures


def _matrix_template(length: int) -> MatrixTemplate | None:
    """None where the symbol is too large for a template (the slow path draws it)."""
    version = byte_mode_version(length)
    if version is None or version > MAX_FAST_VERSION:
        return None
    return build_matrix_template(length, version)
