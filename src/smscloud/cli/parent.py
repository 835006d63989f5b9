"""A child of ``serve``: how it knows, and how it follows its parent (exits with it).

Kept apart from the worker so the simulator, also ``serve``'s child, can use it without
importing the platform.
"""

from __future__ import annotations

import ctypes
import logging
import os
import signal

log = logging.getLogger(__name__)
PARENT_ENV = "SMSCLOUD_PARENT_PID"
_PR_SET_PDEATHSIG = 1


def follow_parent() -> None:
    """When ``serve`` started us: exit with it (Linux ``PR_SET_PDEATHSIG``), and yield the CPU.

    Beside the API on the same cores, request handling should win: a receipt recorded a
    millisecond later matters less than a request answered a millisecond later.
    """
    parent = os.environ.get(PARENT_ENV)
    if not parent:
        return
    os.nice(5)
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        log.warning("cannot ask to follow the parent process; relying on polling")
    if os.getppid() != int(parent):  # the parent died before we asked
        raise SystemExit(0)
