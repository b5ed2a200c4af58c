"""Pictures from outside (a phone's avatar, a connection's logo) made safe to show: decoded in
full, within size limits, then re-encoded as a fresh PNG. Nothing but pixels survives: no
metadata, no ancillary chunk, no bytes after the image, no second format hiding behind a
PNG signature.

Decoding is CPU work (a 4096x4096 picture takes about 0.25 s): callers run it in an executor
and rate-limit who may ask for it."""

from __future__ import annotations

import io
import warnings

from PIL import Image, UnidentifiedImageError

from shared.errors import InvalidRequest

# Largest picture decoded, in pixels: a 15,000 x 15,000 "decompression bomb" is a 4 kB file
# that would need 900 MB to decode; it is refused from its header, before any decoding.
MAX_PIXELS = 4096 * 4096
# The formats Pillow may parse at all: what phones and image editors produce. Leaving the
# rest out keeps Pillow's rarer parsers (and EPS's Ghostscript) away from uploads.
FORMATS = ("PNG", "JPEG", "WEBP", "GIF")


class BadPicture(InvalidRequest):
    """400 invalid_request: the picture cannot be read, is too large, or is of a wrong kind."""


def _open_in_full(
    raw: bytes, what: str, formats: tuple[str, ...], fit: int, *, exact: bool
) -> Image.Image:
    try:
        with warnings.catch_warnings():
            # Pillow warns (and the tests make warnings errors) past its own pixel limit,
            # which is higher than ours; ours is checked below.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(raw), formats=formats)
        if img.width * img.height > MAX_PIXELS:
            raise BadPicture(
                f"{what} is too large: at most {MAX_PIXELS:,} pixels "
                f"(this one is {img.width} x {img.height})."
            )
        if exact and img.size != (fit, fit):
            raise BadPicture(f"{what} must be {fit} x {fit} pixels.")
        img.draft("RGB", (fit * 2, fit * 2))  # a JPEG decodes straight to a smaller scale
        img.load()  # the whole picture: a truncated or corrupt one fails here
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError) as exc:
        # Pillow's parsers raise these for corrupt input (SyntaxError for a bad PNG chunk).
        allowed = ", ".join(formats)
        raise BadPicture(f"{what} is not a picture we can read ({allowed}).") from exc
    except Image.DecompressionBombError as exc:
        raise BadPicture(f"{what} is too large.") from exc
    return img


def clean_png(
    raw: bytes,
    *,
    what: str,
    fit: int,
    square: bool = False,
    exact: bool = False,
    formats: tuple[str, ...] = FORMATS,
) -> bytes:
    """`raw` decoded in full and re-encoded as a new PNG no larger than `fit` x `fit` (cropped
    to its centre square first with `square`, and then exactly that size; with `exact` it
    must already be `fit` x `fit`). Transparency is kept. Raises BadPicture (a 400 naming
    `what`, e.g. "The avatar") for anything else."""
    with _open_in_full(raw, what, formats, fit, exact=exact) as img:
        mode = "RGBA" if img.mode in ("RGBA", "LA", "PA") or "transparency" in img.info else "RGB"
        picture = img.convert(mode)
    if square:
        side = min(picture.size)
        left, top = (picture.width - side) // 2, (picture.height - side) // 2
        picture = picture.crop((left, top, left + side, top + side)).resize((fit, fit))
    elif max(picture.size) > fit:
        picture.thumbnail((fit, fit))
    out = io.BytesIO()
    picture.save(out, format="PNG", optimize=True)
    return out.getvalue()
