"""Images tenants upload (identity documents, signature proofs): PNG or JPEG, 5 MB at most.

A signature's images arrive base64-encoded (Tencent SMS API 3.0 AddSmsSign ``ProofImage`` and
``CommissionImage``; the console encodes its uploads the same way) and are kept so; the
operator's review decodes them here and serves only what the first bytes show to be a PNG or
a JPEG.
"""

from __future__ import annotations

import base64
import binascii

MAX_IMAGE_BYTES = 5 * 1024 * 1024
_SIGNATURES = ((b"\x89PNG\r\n\x1a\n", "png"), (b"\xff\xd8\xff", "jpg"))
MEDIA_TYPES = {"png": "image/png", "jpg": "image/jpeg"}
# Enough base64 characters to hold a data-URL prefix and the longest magic number above.
BASE64_HEAD = 96


def image_suffix(data: bytes) -> str | None:
    """``png`` or ``jpg`` by the file's first bytes (never its name or declared type)."""
    return next((suffix for magic, suffix in _SIGNATURES if data.startswith(magic)), None)


def _strip_data_url(text: str) -> str:
    # The API tolerates the ``data:image/png;base64,`` prefix its callers are told to strip.
    return text.split(",", 1)[-1] if text.startswith("data:") else text


def _decode(text: str) -> bytes | None:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None


def base64_image_suffix(head: str) -> str | None:
    """``png`` or ``jpg`` for a base64 image whose first :data:`BASE64_HEAD` (or more)
    characters are ``head``; None when they do not begin a PNG or JPEG."""
    text = _strip_data_url(head)
    raw = _decode(text[: len(text) // 4 * 4])
    return None if raw is None else image_suffix(raw)


def image_from_base64(text: str) -> tuple[bytes, str] | None:
    """The bytes and suffix of a stored base64 image, or None when it is not valid base64,
    larger than :data:`MAX_IMAGE_BYTES`, or not a PNG or JPEG by its first bytes."""
    raw = _decode(_strip_data_url(text))
    if not raw or len(raw) > MAX_IMAGE_BYTES:
        return None
    suffix = image_suffix(raw)
    return None if suffix is None else (raw, suffix)
