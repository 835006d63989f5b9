"""Playwright (sync API) driving Debian's Chromium: no browser download, ever.

``make system-deps`` installs ``chromium`` with apt when ``/usr/bin/chromium`` is missing.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Page, sync_playwright

from tests.conftest import make_settings
from tests.support.live import LiveServer

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _browser_env() -> dict[str, str | float | bool]:
    """This environment without a preloaded fake clock: under ``../shared/tools/at-night.sh``
    libfaketime stalls Chromium's page loads. The browser applies no rule that reads the time,
    and the cookies it is given expire by ``Max-Age``, so it may keep the real clock."""
    return {k: v for k, v in os.environ.items() if k not in ("LD_PRELOAD", "FAKETIME")}


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrowserContext]:
    if not CHROMIUM.exists():
        pytest.fail("no /usr/bin/chromium: run `make system-deps` (apt-get install chromium)")
    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(profile),
            executable_path=str(CHROMIUM),
            headless=True,
            args=ARGS,
            ignore_default_args=["--headless"],
            viewport={"width": 1280, "height": 800},
            locale="zh-CN",
            env=_browser_env(),
        )
        try:
            yield context
        finally:
            context.close()


@pytest.fixture
def page(browser: BrowserContext) -> Iterator[Page]:
    browser.clear_cookies()
    page = browser.new_page()
    page.set_default_timeout(10_000)
    try:
        yield page
    finally:
        page.close()


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    tmp = tmp_path_factory.mktemp("console-live")
    with LiveServer(make_settings(tmp, f"sqlite:///{tmp / 'console.db'}")) as server:
        yield server
