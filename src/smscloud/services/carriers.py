"""Carriers and routes as the operator defines them, and turning them into live objects.

A carrier row names a kind (``smpp`` or ``sandbox``) and its settings as JSON; for ``smpp`` the
keys are the fields of :class:`smscloud.carriers.smpp.SmppConfig` (``host``, ``port``,
``system_id``, ``password``, ``binds``, ``window``, ``rate``, ``bind_mode``, ``source_addr``...).
A route sends messages matching a country, a number prefix and a message type to an ordered,
weighted list of carriers (:mod:`smscloud.domain.routing`).
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, delete, insert, select

from smscloud.carriers.base import Carrier
from smscloud.carriers.sandbox import SandboxCarrier
from smscloud.clock import system_clock
from smscloud.domain.errors import RuleViolation
from smscloud.domain.routing import Route, parse_carriers
from smscloud.store import schema as s
from smscloud.store.database import inserted_id

KINDS = ("smpp", "sandbox")
NAME = re.compile(r"[A-Za-z0-9_-]{1,32}")
SMS_TYPES = {"marketing": 1, "notification": 2, "verification": 3}


def smpp_config(name: str, settings: Mapping[str, Any]) -> Any:
    """An ``SmppConfig`` from a carrier row's JSON settings, with clear errors."""
    from smscloud.carriers.smpp.config import BindMode, SmppConfig
    from smscloud.protocols.smpp.udh import Concat

    known = {f.name for f in dataclasses.fields(SmppConfig)}
    unknown = sorted(set(settings) - known)
    if unknown:
        raise RuleViolation("InvalidParameter", f"carrier {name}: unknown settings {unknown}")
    values = dict(settings)
    try:
        if "bind_mode" in values:
            values["bind_mode"] = BindMode(values["bind_mode"])
        if "long_method" in values:
            values["long_method"] = Concat(values["long_method"])
        return SmppConfig(**values)
    except (TypeError, ValueError) as exc:
        raise RuleViolation("InvalidParameter", f"carrier {name}: {exc}") from None


def build_carrier(name: str, kind: str, settings: Mapping[str, Any]) -> Carrier:
    if kind == "smpp":
        from smscloud.carriers.smpp import SmppCarrier

        return SmppCarrier(name, smpp_config(name, settings), leased=True)
    if kind == "sandbox":
        return SandboxCarrier(
            name, delay=float(settings.get("delay", 0.2)), rate=float(settings.get("rate", 0))
        )
    raise RuleViolation("InvalidParameter", f"carrier kind must be one of {KINDS}: {kind}")


def add_carrier(
    conn: Connection,
    name: str,
    kind: str,
    settings: Mapping[str, Any],
    *,
    now: float | None = None,
) -> dict[str, Any]:
    """Check the settings by building the carrier (nothing connects), then store it."""
    if not NAME.fullmatch(name):
        raise RuleViolation("InvalidParameter", "a carrier name is 1-32 of A-Z a-z 0-9 _ -")
    build_carrier(name, kind, settings)
    if conn.execute(select(s.carriers.c.id).where(s.carriers.c.name == name)).first():
        raise RuleViolation("ResourceInUse", f"a carrier named {name} exists")
    cid = inserted_id(
        conn.execute(
            insert(s.carriers).values(
                name=name,
                kind=kind,
                settings=json.dumps(dict(settings)),
                enabled=True,
                created_at=system_clock() if now is None else now,
            )
        )
    )
    return {"id": cid, "name": name, "kind": kind}


def list_carriers(conn: Connection) -> list[dict[str, Any]]:
    c = s.carriers
    return [
        {
            "id": r.id,
            "name": r.name,
            "kind": r.kind,
            "enabled": r.enabled,
            "settings": {k: v for k, v in json.loads(r.settings).items() if k != "password"},
        }
        for r in conn.execute(select(c).order_by(c.c.id))
    ]


def remove_carrier(conn: Connection, name: str) -> dict[str, Any]:
    done = conn.execute(delete(s.carriers).where(s.carriers.c.name == name))
    if done.rowcount == 0:
        raise RuleViolation("ResourceNotFound", f"no carrier named {name}")
    return {"name": name, "removed": True}


def load_carriers(conn: Connection) -> dict[str, Carrier]:
    """The enabled carriers, built (not started)."""
    c = s.carriers
    rows = conn.execute(select(c).where(c.c.enabled.is_(True)).order_by(c.c.id)).all()
    return {r.name: build_carrier(r.name, r.kind, json.loads(r.settings)) for r in rows}


def add_route(
    conn: Connection,
    carriers: str,
    *,
    nation_code: str = "",
    prefix: str = "",
    sms_type: str | None = None,
    priority: int = 0,
    now: float | None = None,
) -> dict[str, Any]:
    try:
        parse_carriers(carriers)
    except ValueError as exc:
        raise RuleViolation("InvalidParameter", str(exc)) from None
    if (nation_code and not nation_code.isdigit()) or (prefix and not prefix.isdigit()):
        raise RuleViolation("InvalidParameter", "country and prefix are digits")
    if sms_type is not None and sms_type not in SMS_TYPES:
        raise RuleViolation("InvalidParameter", f"type must be one of {sorted(SMS_TYPES)}")
    rid = inserted_id(
        conn.execute(
            insert(s.routes).values(
                nation_code=nation_code,
                prefix=prefix,
                sms_type=SMS_TYPES[sms_type] if sms_type else None,
                carriers=carriers,
                priority=priority,
                created_at=system_clock() if now is None else now,
            )
        )
    )
    return {
        "id": rid,
        "carriers": carriers,
        "country": nation_code,
        "prefix": prefix,
        "type": sms_type or "any",
        "priority": priority,
    }


def list_routes(conn: Connection) -> list[dict[str, Any]]:
    names = {v: k for k, v in SMS_TYPES.items()}
    r = s.routes
    return [
        {
            "id": row.id,
            "carriers": row.carriers,
            "country": row.nation_code or "any",
            "prefix": row.prefix,
            "type": names.get(row.sms_type, "any"),
            "priority": row.priority,
        }
        for row in conn.execute(select(r).order_by(r.c.id))
    ]


def remove_route(conn: Connection, route_id: int) -> dict[str, Any]:
    done = conn.execute(delete(s.routes).where(s.routes.c.id == route_id))
    if done.rowcount == 0:
        raise RuleViolation("ResourceNotFound", f"no route {route_id}")
    return {"id": route_id, "removed": True}


def load_routes(conn: Connection) -> list[Route]:
    r = s.routes
    return [
        Route(
            id=int(row.id),
            carriers=parse_carriers(row.carriers),
            nation_code=row.nation_code,
            prefix=row.prefix,
            sms_type=row.sms_type,
            priority=int(row.priority),
        )
        for row in conn.execute(select(r).order_by(r.c.id))
    ]
