"""Uploaded images are judged by their first bytes."""

from __future__ import annotations

import pytest

from smscloud.domain.images import image_suffix


@pytest.mark.parametrize(
    ("data", "suffix"),
    [
        (b"\x89PNG\r\n\x1a\n" + b"\0" * 8, "png"),
        (b"\xff\xd8\xff\xe0" + b"\0" * 8, "jpg"),
        (b"GIF89a", None),
        (b"%PDF-1.7", None),
        (b"\x89PNG", None),  # cut short
        (b"", None),
    ],
)
def test_png_and_jpeg_only(data: bytes, suffix: str | None) -> None:
    assert image_suffix(data) == suffix
