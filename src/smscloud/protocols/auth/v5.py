"""Legacy v5 API ``sig``: lower-case hex SHA-256 of a query-like string, no HMAC.

Each command's page (legacy v5 API: sendsms, sendisms, pullstatus...) gives its ``sig`` input.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence

__all__ = ["v5_sig", "verify_v5"]


def v5_sig(
    appkey: str,
    random: str,
    time: int,
    *,
    mobiles: Sequence[str] | None = None,
    tel: str | None = None,
) -> str:
    """``sha256("appkey=..&random=..&time=..[&mobile=a,b|&tel=+86..]")`` as lower-case hex.

    ``mobiles`` (sendsms, sendmultisms2, voice: joined with ``,`` in request order),
    ``tel`` (sendisms) or neither (pull/template/sign commands) — never both.
    """
    if mobiles is not None and tel is not None:
        raise ValueError("give mobiles or tel, not both")
    if isinstance(mobiles, str):
        # A bare str is a Sequence[str] too and would silently sign "1,3,8,...".
        raise TypeError("mobiles must be a sequence of numbers, not a str")
    text = f"appkey={appkey}&random={random}&time={time}"
    if mobiles is not None:
        text += "&mobile=" + ",".join(mobiles)
    elif tel is not None:
        text += "&tel=" + tel
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def verify_v5(
    sig: str,
    appkey: str,
    random: str,
    time: int,
    *,
    mobiles: Sequence[str] | None = None,
    tel: str | None = None,
) -> bool:
    """Constant-time check of a received ``sig`` (hex case ignored). Time window: caller."""
    expected = v5_sig(appkey, random, time, mobiles=mobiles, tel=tel)
    # Non-ASCII becomes "?", which never matches hex, so compare_digest cannot raise.
    return hmac.compare_digest(expected.encode("ascii"), sig.lower().encode("ascii", "replace"))
