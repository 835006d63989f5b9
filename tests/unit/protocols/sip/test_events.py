"""Events are frozen values, checked when made."""

from __future__ import annotations

import dataclasses

import pytest

from smscloud.protocols.sip import CallEnded, Ended, Ringing


def test_who_hung_up_is_us_or_them() -> None:
    assert Ended(1.0, "them").by == "them"
    with pytest.raises(ValueError, match="'us' or 'them'"):
        Ended(1.0, "nobody")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        CallEnded("c", 1.0, "callee")  # type: ignore[arg-type]


def test_events_are_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        Ringing(1.0).at = 2.0  # type: ignore[misc]
