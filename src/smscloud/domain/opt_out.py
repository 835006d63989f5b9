"""Unsubscribe keywords: a reply that is one of them asks the sender to stop marketing.

The words Chinese marketing SMS offer for unsubscribing (``R``, ``TD``, ``T``, ``N``, ``退订``)
and the usual international ones (``STOP``, ``UNSUBSCRIBE``), in any case, alone in the reply
apart from spaces and a final full stop or exclamation mark.
"""

from __future__ import annotations

OPT_OUT_KEYWORDS = frozenset({"R", "TD", "T", "N", "退订", "STOP", "UNSUBSCRIBE"})


def opt_out_keyword(text: str) -> str | None:
    """The opt-out keyword a reply consists of, if any (case- and space-insensitive)."""
    word = text.strip().strip("。.!！").upper()
    return word if word in OPT_OUT_KEYWORDS else None
