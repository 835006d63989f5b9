"""Carriers and routes as the operator defines them, and turning them into live objects.

A carrier row names a kind (``smpp`` or ``sandbox`` for SMS, ``sip`` for voice calls) and its
settings as JSON; for ``sip`` the keys are the fields of
:class:`smscloud.carriers.voice.sip_trunk.SipTrunkConfig` (``host``, ``port``, ``username``,
``password``, ``caller``, ``codecs``, ``max_calls``, ``local_host``...); for ``smpp`` the
keys are the fields of :class:`smscloud.carriers.smpp.SmppConfig` (``host``, ``port``,
``system_id``, ``password``, ``binds``, ``window``, ``rate``, ``bind_mode``, ``source_addr``,
``nation_code``...).
A route sends messages matching a country, a number prefix and a message type to an ordered,
weighted list of carriers (:mod:`smscloud.domain.routing`).
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from smscloud.carriers.base import Carrier
from smscloud.carriers.sandbox import SandboxCarrier
from smscloud.carriers.smpp import SmppCarrier
from smscloud.carriers.smpp.config import BindMode, SmppConfig
from smscloud.carriers.voice.base import VoiceCarrier
from smscloud.carriers.voice.sip_trunk import SipTrunk, SipTrunkConfig
from smscloud.clock import system_clock
from smscloud.domain.errors import RuleViolation
from smscloud.domain.routing import Route, parse_carriers
from smscloud.protocols.smpp.udh import Concat
from smscloud.store import schema as s
from smscloud.store.database import inserted_id

KINDS = ("smpp", "sandbox", "sip")
VOICE_KINDS = frozenset({"sip"})  # carriers of calls; the others carry SMS
NAME = re.compile(r"[A-Za-z0-9_-]{1,32}")
_COUNTRY = re.compile(r"[0-9]{0,8}")
_PREFIX = re.compile(r"[0-9]{0,16}")
SMS_TYPES = {"marketing": 1, "notification": 2, "verification": 3}


def smpp_config(name: str, settings: Mapping[str, Any]) -> SmppConfig:
    """An ``SmppConfig`` from a carrier row's JSON settings, with clear errors."""
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


def _stored(settings: Mapping[str, Any]) -> dict[str, Any]:
    """Settings as kept: a country code is digits in a string, however it was typed
    (``--setting nation_code=44`` reads as a number)."""
    out = dict(settings)
    if isinstance(out.get("nation_code"), int) and not isinstance(out["nation_code"], bool):
        out["nation_code"] = str(out["nation_code"])
    return out


def sip_config(name: str, settings: Mapping[str, Any]) -> SipTrunkConfig:
    """A ``SipTrunkConfig`` from a ``sip`` carrier row's JSON settings, with clear errors.
    ``codecs`` may name them: ``["PCMA", "PCMU"]`` or ``"PCMA,PCMU"``."""
    known = {f.name for f in dataclasses.fields(SipTrunkConfig)} - {"name"}
    unknown = sorted(set(settings) - known)
    if unknown:
        raise RuleViolation("InvalidParameter", f"carrier {name}: unknown settings {unknown}")
    values = dict(settings)
    try:
        if "codecs" in values:
            codecs = values["codecs"]
            names = codecs.split(",") if isinstance(codecs, str) else list(codecs)
            values["codecs"] = tuple(_CODECS[str(c).strip().upper()] for c in names)
        return SipTrunkConfig(name=name, **values)
    except KeyError as exc:
        raise RuleViolation("InvalidParameter", f"carrier {name}: no codec {exc}") from None
    except (TypeError, ValueError) as exc:
        raise RuleViolation("InvalidParameter", f"carrier {name}: {exc}") from None


_CODECS = {"PCMU": 0, "0": 0, "PCMA": 8, "8": 8}


def build_voice_carrier(name: str, kind: str, settings: Mapping[str, Any]) -> VoiceCarrier:
    """A carrier of calls (kind ``sip``), built, not started."""
    if kind == "sip":
        return SipTrunk(sip_config(name, settings))
    raise RuleViolation("InvalidParameter", f"{kind} carriers carry no calls")


def _check(name: str, kind: str, settings: Mapping[str, Any]) -> None:
    """Build the carrier to check its settings; nothing connects."""
    if kind in VOICE_KINDS:
        build_voice_carrier(name, kind, settings)
    else:
        build_carrier(name, kind, settings)


def build_carrier(name: str, kind: str, settings: Mapping[str, Any]) -> Carrier:
    if kind == "smpp":
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
    settings = _stored(settings)
    _check(name, kind, settings)
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


def change_carrier(conn: Connection, name: str, changes: Mapping[str, Any]) -> dict[str, Any]:
    """Change some settings of a carrier (checked as ``add_carrier`` checks them).

    Delivery workers read carriers when they start, so a change takes effect at their next
    start, like a new carrier.
    """
    c = s.carriers
    row = conn.execute(select(c.c.kind, c.c.settings).where(c.c.name == name)).first()
    if row is None:
        raise RuleViolation("ResourceNotFound", f"no carrier named {name}")
    settings = _stored(json.loads(row.settings) | dict(changes))
    _check(name, row.kind, settings)
    conn.execute(update(c).where(c.c.name == name).values(settings=json.dumps(settings)))
    shown = {k: v for k, v in changes.items() if k != "password"}
    return {"name": name, "changed": shown}


def remove_carrier(conn: Connection, name: str) -> dict[str, Any]:
    done = conn.execute(delete(s.carriers).where(s.carriers.c.name == name))
    if done.rowcount == 0:
        raise RuleViolation("ResourceNotFound", f"no carrier named {name}")
    return {"name": name, "removed": True}


def load_carriers(conn: Connection) -> dict[str, Carrier]:
    """The enabled SMS carriers, built (not started)."""
    c = s.carriers
    rows = conn.execute(
        select(c)
        .where(c.c.enabled.is_(True), c.c.kind.not_in(sorted(VOICE_KINDS)))
        .order_by(c.c.id)
    ).all()
    return {r.name: build_carrier(r.name, r.kind, json.loads(r.settings)) for r in rows}


def load_voice_carriers(conn: Connection) -> dict[str, VoiceCarrier]:
    """The enabled carriers of calls, built (not started)."""
    c = s.carriers
    rows = conn.execute(
        select(c).where(c.c.enabled.is_(True), c.c.kind.in_(sorted(VOICE_KINDS))).order_by(c.c.id)
    ).all()
    return {r.name: build_voice_carrier(r.name, r.kind, json.loads(r.settings)) for r in rows}


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
    # ASCII digits that fit their columns ("²".isdigit() is true, too).
    if not (_COUNTRY.fullmatch(nation_code) and _PREFIX.fullmatch(prefix)):
        raise RuleViolation(
            "InvalidParameter", "the country is up to 8 digits, the prefix up to 16 digits"
        )
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


def unmatched_replies(conn: Connection, limit: int = 100) -> list[dict[str, Any]]:
    """The latest replies that matched no message sent, newest first."""
    u = s.unmatched_replies
    rows = conn.execute(select(u).order_by(u.c.received_at.desc(), u.c.id.desc()).limit(limit))
    return [
        {
            "id": r.id,
            "received_at": r.received_at,
            "carrier": r.carrier,
            "phone": r.phone,
            "destination": r.destination,
            "content": r.content,
        }
        for r in rows
    ]
