"""An SMPP 3.4 SMSC simulator and a family of misbehaving SMSCs (see ``simulator``)."""

from __future__ import annotations

from .config import DEFAULT_ACCOUNTS, SmscConfig
from .connection import SmscConnection
from .misbehaviour import (
    BadCommandLength,
    DropsAfterAccepting,
    DropsAfterFirstPart,
    DropsMidWindow,
    NacksSubmits,
    NeverAnswers,
    QueueFull,
    ReceiptBeforeResp,
    RefusesBinds,
    ThrottlesEveryNth,
    UnbindsOnSubmit,
)
from .outcomes import Outcome, outcome_for
from .runner import run_simulator, serve
from .simulator import SmscSimulator, Submitted

__all__ = [
    "DEFAULT_ACCOUNTS",
    "BadCommandLength",
    "DropsAfterAccepting",
    "DropsAfterFirstPart",
    "DropsMidWindow",
    "NacksSubmits",
    "NeverAnswers",
    "Outcome",
    "QueueFull",
    "ReceiptBeforeResp",
    "RefusesBinds",
    "SmscConfig",
    "SmscConnection",
    "SmscSimulator",
    "Submitted",
    "ThrottlesEveryNth",
    "UnbindsOnSubmit",
    "outcome_for",
    "run_simulator",
    "serve",
]
