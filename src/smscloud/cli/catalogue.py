"""``smscloud admin offer ...`` and ``smscloud admin order ...``: the package catalogue.

``register`` adds the commands to the ``admin`` sub-parsers; ``actions`` maps each
``(area, op)`` to its service call, for ``cli._admin`` to run in one transaction.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection

from smscloud.config import Settings
from smscloud.domain.billing.money import parse_yuan
from smscloud.domain.errors import RuleViolation
from smscloud.services.billing import orders as catalogue

__all__ = ["actions", "register"]


def register(
    admin: argparse._SubParsersAction[Any],
    cmd: Callable[..., argparse.ArgumentParser],
) -> None:
    offer = admin.add_parser("offer", help="the catalogue of prepaid packages").add_subparsers(
        dest="op", required=True
    )
    p = cmd(offer, "add", "offer a prepaid package of domestic SMS")
    p.add_argument("--name", required=True)
    p.add_argument("--units", required=True, type=int)
    p.add_argument("--price", required=True, metavar="YUAN", help="e.g. 45 or 45.50 (0: free)")
    p.add_argument("--validity-days", required=True, type=int, help="days from payment")
    p = cmd(offer, "list", "list offers")
    p.add_argument("--active", action="store_true", help="only the offers open to orders")
    for op, what in (("disable", "stop taking orders of"), ("enable", "take orders of")):
        p = cmd(offer, op, f"{what} an offer")
        p.add_argument("--id", required=True, type=int)

    order = admin.add_parser("order", help="orders of prepaid packages").add_subparsers(
        dest="op", required=True
    )
    p = cmd(order, "create", "order an offer for a verified tenant (a free one is granted)")
    p.add_argument("--tenant", required=True, type=int)
    p.add_argument("--offer", required=True, type=int)
    p = cmd(order, "pay", "confirm an order's payment: grants its package")
    p.add_argument("--id", required=True, type=int)
    p = cmd(order, "cancel", "cancel a pending order")
    p.add_argument("--id", required=True, type=int)
    p = cmd(order, "list", "list orders")
    p.add_argument("--tenant", type=int, default=None)


def _price(text: str) -> int:
    try:
        return parse_yuan(text)
    except ValueError as exc:
        raise RuleViolation("InvalidParameterValue", f"bad price: {exc}") from exc


def actions(
    args: argparse.Namespace, settings: Settings
) -> dict[tuple[str, str], Callable[[Connection], Any]]:
    """The offer and order commands; each reads ``args`` only when it runs."""
    return {
        ("offer", "add"): lambda c: catalogue.add_offer(
            c, args.name, args.units, _price(args.price), args.validity_days
        ),
        ("offer", "list"): lambda c: catalogue.list_offers(c, active_only=args.active),
        ("offer", "disable"): lambda c: catalogue.set_offer_active(c, args.id, False),
        ("offer", "enable"): lambda c: catalogue.set_offer_active(c, args.id, True),
        ("order", "create"): lambda c: catalogue.create_order(
            c, args.tenant, args.offer, settings.tz
        ),
        ("order", "pay"): lambda c: catalogue.pay_order(c, args.id, settings.tz),
        ("order", "cancel"): lambda c: catalogue.cancel_order(c, args.id),
        ("order", "list"): lambda c: catalogue.list_orders(c, args.tenant),
    }
