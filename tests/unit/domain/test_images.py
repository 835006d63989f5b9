"""Uploaded images are judged by their first bytes."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smscloud.domain.images import (
    BASE64_HEAD,
    MAX_IMAGE_BYTES,
    base64_image_suffix,
    image_from_base64,
    image_suffix,
)


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


PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 40
JPEG = b"\xff\xd8\xff\xe0" + b"\0" * 40


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (b64(PNG), (PNG, "png")),
        (b64(JPEG), (JPEG, "jpg")),
        ("data:image/png;base64," + b64(PNG), (PNG, "png")),  # the prefix the API tolerates
        (b64(b"GIF89a" + b"\0" * 10), None),
        (b64(b"<svg onload=alert(1)>"), None),  # never served as an image
        ("not base64!", None),
        ("", None),
        (b64(PNG + b"\0" * MAX_IMAGE_BYTES), None),  # too large
    ],
)
def test_stored_base64_images(text: str, expected: tuple[bytes, str] | None) -> None:
    assert image_from_base64(text) == expected


@given(st.binary(max_size=200), st.booleans())
def test_the_head_of_a_base64_image_tells_its_kind(data: bytes, prefixed: bool) -> None:
    text = ("data:image/jpeg;base64," if prefixed else "") + b64(data)
    assert base64_image_suffix(text[:BASE64_HEAD]) == image_suffix(data)
