"""Images tenants upload (identity documents, signature proofs): PNG or JPEG, 5 MB at most."""

from __future__ import annotations

MAX_IMAGE_BYTES = 5 * 1024 * 1024
_SIGNATURES = ((b"\x89PNG\r\n\x1a\n", "png"), (b"\xff\xd8\xff", "jpg"))


def image_suffix(data: bytes) -> str | None:
    """``png`` or ``jpg`` by the file's first bytes (never its name or declared type)."""
    return next((suffix for magic, suffix in _SIGNATURES if data.startswith(magic)), None)
