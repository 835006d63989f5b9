"""``smscloud``: serve the platform and administer it.

    smscloud serve                       API, plus delivery and the sandbox in a worker process
    smscloud worker                      delivery only (scale out on PostgreSQL)
    smscloud api                         HTTP API only (scale out beside workers)
    smscloud smsc-sim                    the SMPP SMSC simulator on its own
    smscloud migrate                     bring the database schema up to date
    smscloud admin tenant create ...     operator commands (add --json for machine output)

Every command reads the same ``SMSCLOUD_*`` settings (see docs/configuration.md).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable, Sequence
from dataclasses import asdict, replace
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, func, select

from smscloud.cli import catalogue, postpaid, simulator
from smscloud.clock import system_clock
from smscloud.config import Settings, load_settings
from smscloud.domain.errors import RuleViolation
from smscloud.services import carrier_setup as carriers
from smscloud.services.accounts import tenants as accounts
from smscloud.services.billing import ledger, wallet
from smscloud.services.registry import review
from smscloud.services.registry.voice_review import decide_voice, pending_voice
from smscloud.store import schema as s
from smscloud.store.database import Database
from smscloud.store.migrate import upgrade


def _limit(value: str) -> int | None:
    """A frequency limit: a non-negative integer, or ``off``."""
    if value.lower() in ("off", "none", "0"):
        return None
    n = int(value)
    if n < 0:
        raise argparse.ArgumentTypeError("must be >= 0 or 'off'")
    return n


def _positive(value: str) -> int:
    n = int(value)
    if n < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return n


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="smscloud", description="A self-hosted SMS cloud.")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("serve", help="run the whole platform: API, delivery, sandbox carrier")
    sub.add_parser("worker", help="run delivery only (dispatcher, carriers, receipts)")
    sub.add_parser("api", help="run the HTTP API only, beside separate workers")
    sim = sub.add_parser("smsc-sim", help="run the SMPP SMSC simulator alone")
    simulator.add_arguments(sim)
    sub.add_parser("migrate", help="bring the database schema up to date")

    admin = sub.add_parser("admin", help="operator commands").add_subparsers(
        dest="area", required=True
    )

    def cmd(area: argparse._SubParsersAction[Any], name: str, help: str) -> argparse.ArgumentParser:
        p: argparse.ArgumentParser = area.add_parser(name, help=help)
        p.add_argument("--json", action="store_true", help="print JSON")
        return p

    tenant = admin.add_parser("tenant", help="tenants").add_subparsers(dest="op", required=True)
    p = cmd(tenant, "create", "create a tenant")
    p.add_argument("--name", required=True)
    p.add_argument("--type", required=True, choices=["enterprise", "individual"])
    p.add_argument("--verified", action="store_true")
    p = cmd(tenant, "alarm", "alarm when the units left in packages fall to a threshold")
    p.add_argument("--tenant", required=True, type=int)
    p.add_argument("--threshold", required=True, type=int, help="units left; 0 turns it off")
    p.add_argument("--email", action="append", default=[], help="alarm contact (repeatable)")
    p.add_argument("--phone", action="append", default=[], help="alarm contact (repeatable)")

    ops = admin.add_parser("operator", help="operator accounts").add_subparsers(
        dest="op", required=True
    )
    p = cmd(ops, "create", "add an operator; prints a new random password once")
    p.add_argument("--username", required=True)

    key = admin.add_parser("key", help="API keys").add_subparsers(dest="op", required=True)
    p = cmd(key, "create", "create a SecretId/SecretKey pair")
    p.add_argument("--tenant", required=True, type=int)

    app = admin.add_parser("app", help="applications").add_subparsers(dest="op", required=True)
    p = cmd(app, "limits", "daily limits of an application (0: none)")
    p.add_argument("--app", required=True, metavar="SDKAPPID")
    p.add_argument("--daily", type=int, default=0, help="messages a day")
    p.add_argument("--mainland", type=int, default=0, help="Mainland China messages a day")
    p.add_argument("--international", type=int, default=0, help="international messages a day")
    p = cmd(app, "create", "create an application (SdkAppId + AppKey)")
    p.add_argument("--tenant", required=True, type=int)
    p.add_argument("--name", required=True)
    p.add_argument("--freq-30s", type=_limit, default=1, help="same number+content per 30 s")
    p.add_argument(
        "--freq-hour", type=_limit, default=None, help="same number per hour (default: off)"
    )
    p.add_argument("--freq-day", type=_limit, default=10, help="same number per natural day")
    p.add_argument("--freq-same-content-day", type=_limit, default=None)
    p.add_argument("--status-callback", default="", metavar="URL", help="status report push URL")
    p.add_argument("--reply-callback", default="", metavar="URL", help="reply push URL")

    pkg = admin.add_parser("package", help="prepaid packages").add_subparsers(
        dest="op", required=True
    )
    p = cmd(pkg, "grant", "grant a prepaid package of domestic SMS")
    p.add_argument("--tenant", required=True, type=int)
    p.add_argument("--units", required=True, type=int)
    p.add_argument("--expires", type=date.fromisoformat, help="last valid day, YYYY-MM-DD")
    p = cmd(pkg, "refund", "refund what is left of a package (it ends now)")
    p.add_argument("--package", required=True, type=int)

    bill = admin.add_parser("billing", help="billing").add_subparsers(dest="op", required=True)
    cmd(bill, "check", "prove that packages, billed messages and the ledger agree")

    car = admin.add_parser("carrier", help="carriers (SMPP accounts, SIP trunks)").add_subparsers(
        dest="op", required=True
    )
    p = cmd(car, "add", "connect a carrier; delivery workers pick it up when they start")
    p.add_argument("--name", required=True)
    p.add_argument("--kind", default="smpp", choices=list(carriers.KINDS))
    p.add_argument("--host", default=None)
    p.add_argument("--port", type=int, default=None)
    p.add_argument("--system-id", default=None)
    p.add_argument("--username", default=None, help="sip: the trunk's Digest user")
    p.add_argument("--password", default=None)
    p.add_argument("--caller", default=None, help="sip: the number shown to the callee")
    p.add_argument("--max-calls", type=int, default=None, help="sip: calls at once")
    p.add_argument("--binds", type=int, default=None)
    p.add_argument("--window", type=int, default=None)
    p.add_argument("--rate", type=float, default=None, help="submits/s for the carrier")
    p.add_argument("--source-addr", default=None)
    _carrier_country_and_settings(p)
    p = cmd(car, "set", "change a carrier's settings; workers apply them when they start")
    p.add_argument("--name", required=True)
    _carrier_country_and_settings(p)
    cmd(car, "list", "list carriers")
    p = cmd(car, "remove", "remove a carrier")
    p.add_argument("--name", required=True)

    route = admin.add_parser("route", help="routes to carriers").add_subparsers(
        dest="op", required=True
    )
    p = cmd(route, "add", "route matching messages to weighted carriers (first = primary)")
    p.add_argument("--carriers", required=True, help='"name:weight,name:weight"')
    p.add_argument("--country", default="", help="calling code, e.g. 86 (default: any)")
    p.add_argument("--prefix", default="", help="start of the national number (default: any)")
    p.add_argument("--type", default=None, choices=["marketing", "notification", "verification"])
    p.add_argument("--priority", type=int, default=0)
    cmd(route, "list", "list routes")
    p = cmd(route, "remove", "remove a route")
    p.add_argument("id", type=int)

    reply = admin.add_parser("reply", help="replies").add_subparsers(dest="op", required=True)
    p = cmd(reply, "unmatched", "replies that matched no message sent, newest first")
    p.add_argument("--limit", type=_positive, default=100)

    rev = admin.add_parser(
        "review", help="review signatures, templates, voice templates and voice files"
    ).add_subparsers(dest="op", required=True)
    cmd(rev, "list", "list what waits for review")
    for op in ("approve", "reject"):
        p = cmd(rev, op, f"{op} a signature, a template, a voice template or a voice file")
        p.add_argument("kind", choices=["sign", "template", *VOICE_REVIEWS])
        p.add_argument("id", type=int)
        p.add_argument("--reason", default="", required=(op == "reject"))
    catalogue.register(admin, cmd)
    postpaid.register(admin, cmd)
    return parser


VOICE_REVIEWS = ("voice_template", "voice_file")


def _carrier_country_and_settings(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--country",
        dest="nation_code",
        default=None,
        metavar="CODE",
        help="calling code of the carrier's country, for the national numbers it sends"
        " (default 86)",
    )
    p.add_argument(
        "--setting",
        action="append",
        default=[],
        metavar="KEY=JSON",
        help='any other setting, e.g. bind_mode="pair" (repeatable)',
    )


def _carrier_settings(args: argparse.Namespace) -> dict[str, Any]:
    out: dict[str, Any] = {}
    flags = (
        *("host", "port", "system_id", "username", "password", "caller", "max_calls"),
        *("binds", "window", "rate", "source_addr"),
    )
    for flag in (*flags, "nation_code"):
        value = getattr(args, flag, None)
        if value is not None:
            out[flag] = value
    for item in args.setting:
        key, _, raw = item.partition("=")
        try:
            out[key] = json.loads(raw)
        except json.JSONDecodeError:
            out[key] = raw
    return out


def _admin(args: argparse.Namespace, settings: Settings) -> Any:
    actions: dict[tuple[str, str], Callable[[Connection], Any]] = {
        ("tenant", "create"): lambda c: _new_tenant(
            accounts.create_tenant(c, args.name, args.type, verified=args.verified)
        ),
        ("key", "create"): lambda c: asdict(accounts.create_key(c, args.tenant)),
        ("operator", "create"): lambda c: asdict(accounts.add_operator(c, args.username)),
        ("app", "create"): lambda c: asdict(
            accounts.create_app(
                c,
                args.tenant,
                args.name,
                freq_30s=args.freq_30s,
                freq_hour=args.freq_hour,
                freq_day=args.freq_day,
                freq_same_content_day=args.freq_same_content_day,
                allowed_networks=settings.callback_allowed_networks,
                status_callback_url=args.status_callback,
                reply_callback_url=args.reply_callback,
            )
        ),
        ("package", "grant"): lambda c: wallet.grant_package(
            c, args.tenant, args.units, expires=args.expires, tz=settings.tz
        ),
        ("package", "refund"): lambda c: wallet.refund_package(c, args.package),
        ("tenant", "alarm"): lambda c: _alarm(
            accounts.set_alarm(c, args.tenant, args.threshold, args.email, args.phone)
        ),
        ("app", "limits"): lambda c: asdict(
            accounts.set_daily_limits(c, args.app, args.daily, args.mainland, args.international)
        ),
        ("billing", "check"): _billing_check,
        ("carrier", "add"): lambda c: carriers.add_carrier(
            c, args.name, args.kind, _carrier_settings(args)
        ),
        ("carrier", "set"): lambda c: carriers.change_carrier(
            c, args.name, _carrier_settings(args)
        ),
        ("carrier", "list"): carriers.list_carriers,
        ("reply", "unmatched"): lambda c: carriers.unmatched_replies(c, args.limit),
        ("carrier", "remove"): lambda c: carriers.remove_carrier(c, args.name),
        ("route", "add"): lambda c: carriers.add_route(
            c,
            args.carriers,
            nation_code=args.country,
            prefix=args.prefix,
            sms_type=args.type,
            priority=args.priority,
        ),
        ("route", "list"): carriers.list_routes,
        ("route", "remove"): lambda c: carriers.remove_route(c, args.id),
        ("review", "list"): lambda c: _review_list(c, settings.tz),
        ("review", "approve"): lambda c: _decide(c, args, approve=True),
        ("review", "reject"): lambda c: _decide(c, args, approve=False),
    }
    actions |= catalogue.actions(args, settings) | postpaid.actions(args, settings)
    db = Database(settings.resolved_database_url)
    try:
        upgrade(db.engine)
        with db.connect() as conn:
            return actions[(args.area, args.op)](conn)
    finally:
        db.close()


def _new_tenant(t: accounts.NewTenant) -> dict[str, Any]:
    return {"id": t.id, "name": t.name, "type": t.account_type, "verified": t.verified}


def _alarm(a: accounts.Alarm) -> dict[str, Any]:
    return {
        "tenant": a.tenant_id,
        "threshold": a.threshold,
        "emails": list(a.emails),
        "phones": list(a.phones),
    }


def _review_list(conn: Connection, tz: ZoneInfo) -> list[dict[str, Any]]:
    """The review queue as ``admin review list`` prints it: the fields a reviewer needs, and
    for each its working-time wait against the half-work-day promise (``domain.work_time``)
    at the machine's time, the CLI's "now"."""
    out: list[dict[str, Any]] = []
    now = system_clock()
    for voice in pending_voice(conn, now, tz):
        wait = voice.wait
        fields = {k: v for k, v in asdict(voice).items() if k != "wait"}
        out.append(fields | {"waited_minutes": wait.waited_minutes, "overdue": wait.overdue})
    for item in review.pending(conn, now, tz):
        head = {
            "kind": item.kind,
            "id": item.id,
            "tenant_id": item.tenant_id,
            "name": item.name,
            "waited_minutes": item.wait.waited_minutes,
            "overdue": item.wait.overdue,
        }
        if isinstance(item, review.PendingSign):
            out.append(head | {"international": item.international, "created_at": item.created_at})
        else:
            out.append(
                head
                | {
                    "content": item.content,
                    "sms_type": item.sms_type,
                    "international": item.international,
                    "created_at": item.created_at,
                    "findings": list(item.findings),
                }
            )
    return out


def _decide(conn: Connection, args: argparse.Namespace, *, approve: bool) -> dict[str, Any]:
    """``admin review approve|reject KIND ID``: SMS items and voice items alike."""
    if args.kind in VOICE_REVIEWS:
        now = system_clock()
        decided = decide_voice(
            conn, args.kind, args.id, approve=approve, reason=args.reason, now=now
        )
        return asdict(decided)
    return asdict(review.decide(conn, args.kind, args.id, approve=approve, reason=args.reason))


def _billing_check(conn: Connection) -> dict[str, Any]:
    problems = ledger.check(conn)
    packages = conn.execute(select(func.count()).select_from(s.packages)).scalar_one()
    return {"packages": int(packages), "clean": not problems, "problems": problems}


def _print(result: Any, as_json: bool) -> None:
    if as_json:
        print(json.dumps(result, ensure_ascii=False, default=str))
        return
    rows = result if isinstance(result, list) else [result]
    if not rows:
        print("(nothing)")
    for row in rows:
        print("  ".join(f"{k}={v}" for k, v in row.items()))


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    settings = load_settings()
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    if settings.log_level.lower() != "debug":
        # Every process checks the schema at start; "nothing to do" is not news.
        logging.getLogger("alembic").setLevel(logging.WARNING)
    if args.command == "smsc-sim":
        return simulator.run(args, settings.simulator_account)
    if args.command == "api":
        settings = replace(settings, delivery="none")
    if args.command in ("serve", "worker", "api"):
        import uvloop

        from smscloud.cli.serve import serve
        from smscloud.cli.worker import work

        runner = work if args.command == "worker" else serve
        try:
            return uvloop.run(runner(settings))
        except KeyboardInterrupt:
            # uvicorn shuts down gracefully on Ctrl-C, then re-raises the signal; the
            # shutdown is done, so end quietly with the conventional status.
            return 130
    if args.command == "migrate":
        db = Database(settings.resolved_database_url)
        upgrade(db.engine)
        db.close()
        print("database is up to date")
        return 0
    try:
        result = _admin(args, settings)
    except RuleViolation as exc:
        print(f"error: {exc.message} ({exc.code})", file=sys.stderr)
        return 1
    if (args.area, args.op) == ("billing", "check") and not args.json:
        for problem in result["problems"]:
            print(problem)
        verdict = "clean" if result["clean"] else f"{len(result['problems'])} problem(s)"
        print(f"{result['packages']} packages checked: {verdict}")
    else:
        _print(result, args.json)
    if (args.area, args.op) == ("billing", "check") and not result["clean"]:
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
