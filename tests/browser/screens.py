"""Screenshots of console pages, checked to be real renderings.

They go to a temporary directory, or to docs/screenshots/ (the README's) with
SMSCLOUD_SCREENSHOTS=docs/screenshots.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from playwright.sync_api import Page, expect

SHOTS = Path(os.environ.get("SMSCLOUD_SCREENSHOTS") or tempfile.mkdtemp(prefix="smscloud-shots-"))


def shoot(page: Page, name: str, heading: str) -> None:
    """A full-page PNG once the (Chinese) heading shows and the fonts are loaded."""
    expect(page.locator("h1").first).to_contain_text(heading)
    page.evaluate("document.fonts.ready.then(() => true)")
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(data) > 10_000, f"{name}.png is suspiciously small ({len(data)} bytes)"
