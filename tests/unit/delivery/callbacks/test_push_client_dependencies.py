"""The HTTP library of callback pushes finds what it looks for on every request."""

from __future__ import annotations

import asyncio
import sys

from httpcore._synchronization import current_async_library


def test_the_event_loop_is_named_without_a_failed_import() -> None:
    """httpcore asks sniffio several times per request; were it missing, every ask would
    search the whole import path and fail (a tenth of a push's CPU)."""

    async def ask() -> str:
        return current_async_library()

    assert asyncio.run(ask()) == "asyncio"
    assert sys.modules.get("sniffio") is not None
