"""The package catalogue: offers, orders, and paying for them grants exactly one package."""

from __future__ import annotations

import argparse
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Connection, func, select, update

from smscloud.cli import catalogue as cli_catalogue
from smscloud.config import Settings
from smscloud.domain.errors import RuleViolation
from smscloud.services.accounts import tenants
from smscloud.services.billing import ledger, wallet
from smscloud.services.billing import orders as catalogue
from smscloud.store import schema as s
from smscloud.store.database import Database

SHANGHAI = ZoneInfo("Asia/Shanghai")
YUAN = 1_000_000


def _tenant(db: Database, *, verified: bool = True) -> int:
    made = db.write_sync(
        lambda c: tenants.create_tenant(c, "ACME", "enterprise", verified=verified)
    )
    return int(made.id)


def _offer(db: Database, units: int = 1000, price: int = 45 * YUAN, days: int = 30) -> int:
    made = db.write_sync(lambda c: catalogue.add_offer(c, "Basic", units, price, days))
    return int(made["id"])


def _ledger(db: Database, tenant: int) -> list[tuple[str, int | None, int, int, str]]:
    lg = s.ledger
    query = (
        select(lg.c.kind, lg.c.package_id, lg.c.units, lg.c.amount, lg.c.note)
        .where(lg.c.tenant_id == tenant)
        .order_by(lg.c.id)
    )
    return [tuple(r) for r in db.read_sync(lambda c: c.execute(query).all())]  # type: ignore[misc]


def _packages(db: Database, tenant: int) -> list[dict[str, Any]]:
    p = s.packages
    query = select(p).where(p.c.tenant_id == tenant).order_by(p.c.id)
    return [dict(r) for r in db.read_sync(lambda c: c.execute(query).mappings().all())]


def _expiry(validity_days: int) -> set[int]:
    """Start of the day after the last valid one, in Shanghai (either side of a midnight)."""
    out = set()
    for at in (datetime.now(SHANGHAI) - timedelta(seconds=5), datetime.now(SHANGHAI)):
        end = at.date() + timedelta(days=validity_days)
        out.add(int(datetime.combine(end, datetime.min.time(), SHANGHAI).timestamp()))
    return out


def _refused(db: Database, fn: Callable[[Connection], Any], code: str, text: str) -> None:
    with pytest.raises(RuleViolation) as caught:
        db.write_sync(fn)
    assert caught.value.code == code
    assert text in caught.value.message


def test_offers_are_validated_listed_and_disabled(db: Database) -> None:
    for name, units, price, days, text in [
        ("", 10, 0, 30, "name"),
        ("   ", 10, 0, 30, "name"),
        ("x" * 65, 10, 0, 30, "name"),
        ("ok", 0, 0, 30, "units"),
        ("ok", -5, 0, 30, "units"),
        ("ok", 10, -1, 30, "price"),
        ("ok", 10, 0, 0, "validity_days"),
        ("ok", 10, 0, 3661, "validity_days"),
    ]:
        _refused(
            db,
            lambda c, a=(name, units, price, days): catalogue.add_offer(c, *a),
            "InvalidParameterValue",
            text,
        )
    assert db.read_sync(catalogue.list_offers) == []

    big = db.write_sync(lambda c: catalogue.add_offer(c, "x" * 64, 10_000, 450_500_000, 3660))
    assert big["name"] == "x" * 64 and big["validity_days"] == 3660
    assert big["price"] == 450_500_000 and big["price_yuan"] == "450.50"
    free = db.write_sync(lambda c: catalogue.add_offer(c, "Trial", 100, 0, 1))
    assert free["price_yuan"] == "0.00" and free["active"] is True

    off = db.write_sync(lambda c: catalogue.set_offer_active(c, big["id"], False))
    assert off["active"] is False
    assert [o["id"] for o in db.read_sync(catalogue.list_offers)] == [big["id"], free["id"]]
    active = db.read_sync(lambda c: catalogue.list_offers(c, active_only=True))
    assert [o["id"] for o in active] == [free["id"]]
    assert db.write_sync(lambda c: catalogue.set_offer_active(c, big["id"], True))["active"]
    _refused(db, lambda c: catalogue.set_offer_active(c, 999, True), "ResourceNotFound", "999")


def test_an_order_paid_grants_its_package_and_records_the_payment(db: Database) -> None:
    tenant = _tenant(db)
    offer = _offer(db, units=1000, price=45 * YUAN, days=30)
    order = db.write_sync(lambda c: catalogue.create_order(c, tenant, offer, SHANGHAI))
    assert order["state"] == "pending" and order["package_id"] is None
    assert (order["units"], order["price"], order["price_yuan"]) == (1000, 45 * YUAN, "45.00")
    assert _packages(db, tenant) == [] and _ledger(db, tenant) == []

    # The order keeps the price it was placed at, and a disabled offer is still payable.
    po = s.package_offers
    db.write_sync(lambda c: c.execute(update(po).where(po.c.id == offer).values(price=99 * YUAN)))
    db.write_sync(lambda c: catalogue.set_offer_active(c, offer, False))

    paid = db.write_sync(lambda c: catalogue.pay_order(c, order["id"], SHANGHAI))
    assert paid["state"] == "paid" and paid["paid_at"] is not None
    assert paid["price"] == 45 * YUAN
    [package] = _packages(db, tenant)
    assert paid["package_id"] == package["id"]
    assert (package["amount"], package["used"], package["package_type"]) == (1000, 0, 1)
    assert package["source"] == f"order:{order['id']}"
    assert int(package["expires_at"]) in _expiry(30)
    note = f"order:{order['id']}"
    assert _ledger(db, tenant) == [
        ("grant", package["id"], 1000, 0, note),
        ("payment", package["id"], 0, 45 * YUAN, note),
    ]
    assert db.read_sync(lambda c: ledger.balances(c, tenant))["left"] == 1000

    # Paying again is refused and grants nothing more.
    _refused(db, lambda c: catalogue.pay_order(c, order["id"], SHANGHAI), "FailedOperation", "paid")
    _refused(db, lambda c: catalogue.cancel_order(c, order["id"]), "FailedOperation", "paid")
    assert len(_packages(db, tenant)) == 1 and len(_ledger(db, tenant)) == 2
    assert db.read_sync(catalogue.list_orders) == [paid]
    assert db.read_sync(ledger.check) == []


def test_a_free_offer_is_granted_when_ordered(db: Database) -> None:
    tenant = _tenant(db)
    offer = _offer(db, units=50, price=0, days=1)
    order = db.write_sync(lambda c: catalogue.create_order(c, tenant, offer, SHANGHAI))
    assert order["state"] == "paid" and order["price_yuan"] == "0.00"
    [package] = _packages(db, tenant)
    assert order["package_id"] == package["id"]
    assert (package["amount"], package["package_type"]) == (50, 0)  # gifted
    assert int(package["expires_at"]) in _expiry(1)  # the end of today
    note = f"order:{order['id']}"
    assert _ledger(db, tenant) == [
        ("grant", package["id"], 50, 0, note),
        ("payment", package["id"], 0, 0, note),
    ]
    _refused(db, lambda c: catalogue.pay_order(c, order["id"], SHANGHAI), "FailedOperation", "paid")
    # A second free order is a second package: the source is per order.
    db.write_sync(lambda c: catalogue.create_order(c, tenant, offer, SHANGHAI))
    assert [p["amount"] for p in _packages(db, tenant)] == [50, 50]
    assert db.read_sync(ledger.check) == []


def test_cancelling_and_who_may_order_what(db: Database) -> None:
    tenant, other, unverified = _tenant(db), _tenant(db), _tenant(db, verified=False)
    offer = _offer(db)

    def order(t: int, o: int = offer) -> dict[str, Any]:
        return db.write_sync(lambda c: catalogue.create_order(c, t, o, SHANGHAI))

    first, second = order(tenant), order(other)
    cancelled = db.write_sync(lambda c: catalogue.cancel_order(c, first["id"]))
    assert cancelled["state"] == "cancelled" and cancelled["package_id"] is None
    _refused(db, lambda c: catalogue.cancel_order(c, first["id"]), "FailedOperation", "cancelled")
    _refused(
        db,
        lambda c: catalogue.pay_order(c, first["id"], SHANGHAI),
        "FailedOperation",
        "cancelled",
    )
    _refused(db, lambda c: catalogue.pay_order(c, 999, SHANGHAI), "ResourceNotFound", "999")
    _refused(db, lambda c: catalogue.cancel_order(c, 999), "ResourceNotFound", "999")
    assert _packages(db, tenant) == []

    _refused(
        db,
        lambda c: catalogue.create_order(c, unverified, offer, SHANGHAI),
        "FailedOperation",
        "not verified",
    )
    _refused(
        db, lambda c: catalogue.create_order(c, 999, offer, SHANGHAI), "ResourceNotFound", "999"
    )
    _refused(
        db, lambda c: catalogue.create_order(c, tenant, 999, SHANGHAI), "ResourceNotFound", "999"
    )
    db.write_sync(lambda c: catalogue.set_offer_active(c, offer, False))
    _refused(
        db,
        lambda c: catalogue.create_order(c, tenant, offer, SHANGHAI),
        "FailedOperation",
        "disabled",
    )
    db.write_sync(lambda c: catalogue.set_offer_active(c, offer, True))
    third = order(tenant)

    assert [o["id"] for o in db.read_sync(catalogue.list_orders)] == [
        first["id"],
        second["id"],
        third["id"],
    ]
    mine = db.read_sync(lambda c: catalogue.list_orders(c, tenant))
    assert [(o["id"], o["state"]) for o in mine] == [
        (first["id"], "cancelled"),
        (third["id"], "pending"),
    ]
    assert db.read_sync(lambda c: catalogue.list_orders(c, unverified)) == []
    assert db.read_sync(ledger.check) == []


@pytest.mark.parametrize("writers", ["shared", "separate"])
def test_concurrent_payments_grant_one_package(
    db: Database, database_url: str, writers: str
) -> None:
    """8 threads pay one order at once: through one writer (their jobs share a group commit)
    or through 8 writers of their own, like 8 processes racing on the database."""
    tenant = _tenant(db)
    order = db.write_sync(lambda c: catalogue.create_order(c, tenant, _offer_in(c), SHANGHAI))
    n = 8
    dbs = [db] * n
    if writers == "separate":
        dbs = [Database(database_url) for _ in range(n)]
        for d in dbs:
            d.start()
    barrier = threading.Barrier(n)
    results: list[dict[str, Any]] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def pay(d: Database) -> None:
        barrier.wait()
        try:
            out = d.write_sync(lambda c: catalogue.pay_order(c, order["id"], SHANGHAI))
        except BaseException as exc:
            with lock:
                errors.append(exc)
        else:
            with lock:
                results.append(out)

    threads = [threading.Thread(target=pay, args=(d,)) for d in dbs]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
    finally:
        if writers == "separate":
            for d in dbs:
                d.close()
    assert len(results) == 1 and results[0]["state"] == "paid"
    assert len(errors) == n - 1
    assert all(isinstance(e, RuleViolation) and e.code == "FailedOperation" for e in errors)
    [package] = _packages(db, tenant)
    assert results[0]["package_id"] == package["id"] and package["amount"] == 1000
    assert [k for k, *_ in _ledger(db, tenant)] == ["grant", "payment"]
    assert db.read_sync(ledger.check) == []


def _offer_in(conn: Connection) -> int:
    return int(catalogue.add_offer(conn, "Basic", 1000, 45 * YUAN, 30)["id"])


def _parser() -> argparse.ArgumentParser:
    """The admin parser as cli/main.py builds it, with only the catalogue's commands."""
    parser = argparse.ArgumentParser(prog="smscloud")
    sub = parser.add_subparsers(dest="command", required=True)
    admin = sub.add_parser("admin").add_subparsers(dest="area", required=True)

    def cmd(area: argparse._SubParsersAction[Any], name: str, help: str) -> argparse.ArgumentParser:
        p: argparse.ArgumentParser = area.add_parser(name, help=help)
        p.add_argument("--json", action="store_true", help="print JSON")
        return p

    cli_catalogue.register(admin, cmd)
    return parser


def test_the_admin_commands(db: Database, capsys: pytest.CaptureFixture[str]) -> None:
    settings = Settings()
    tenant = _tenant(db)

    def run(*argv: str) -> Any:
        args = _parser().parse_args(["admin", *argv])
        return db.write_sync(cli_catalogue.actions(args, settings)[(args.area, args.op)])

    offer = run("offer", "add", "--name", "Pro", "--units", "5000", "--price", "199.9",
                "--validity-days", "365", "--json")  # fmt: skip
    assert (offer["price"], offer["price_yuan"], offer["units"]) == (199_900_000, "199.90", 5000)
    free = run("offer", "add", "--name", "Trial", "--units", "10", "--price", "0",
               "--validity-days", "7")  # fmt: skip
    for bad in ("-1", "1e3", "12.3456789", "１２", "abc"):
        with pytest.raises(RuleViolation) as caught:
            run("offer", "add", "--name", "X", "--units", "1", "--price", bad,
                "--validity-days", "1")  # fmt: skip
        assert caught.value.code == "InvalidParameterValue" and "price" in caught.value.message
    assert run("offer", "disable", "--id", str(free["id"]))["active"] is False
    assert [o["id"] for o in run("offer", "list", "--active")] == [offer["id"]]
    assert run("offer", "enable", "--id", str(free["id"]))["active"] is True
    assert len(run("offer", "list")) == 2

    order = run("order", "create", "--tenant", str(tenant), "--offer", str(offer["id"]))
    assert order["state"] == "pending" and order["price_yuan"] == "199.90"
    paid = run("order", "pay", "--id", str(order["id"]))
    assert paid["state"] == "paid"
    [package] = _packages(db, tenant)
    assert int(package["expires_at"]) in _expiry(365)
    gift = run("order", "create", "--tenant", str(tenant), "--offer", str(free["id"]))
    assert gift["state"] == "paid"
    pending = run("order", "create", "--tenant", str(tenant), "--offer", str(offer["id"]))
    assert run("order", "cancel", "--id", str(pending["id"]))["state"] == "cancelled"
    listed = run("order", "list", "--tenant", str(tenant))
    assert [o["state"] for o in listed] == ["paid", "paid", "cancelled"]
    assert run("order", "list", "--tenant", "999") == []
    assert len(run("order", "list")) == 3
    assert [p["amount"] for p in _packages(db, tenant)] == [5000, 10]
    assert db.read_sync(ledger.check) == []

    with pytest.raises(SystemExit):
        _parser().parse_args(["admin", "order", "pay"])  # --id is required
    assert "--id" in capsys.readouterr().err


def test_nothing_is_granted_when_the_grant_fails(db: Database) -> None:
    """A payment whose grant fails (a package already holds the order's source) rolls back:
    the order stays pending, with no payment entry."""
    tenant = _tenant(db)
    order = db.write_sync(lambda c: catalogue.create_order(c, tenant, _offer_in(c), SHANGHAI))
    db.write_sync(
        lambda c: wallet.grant_package(c, tenant, 5, tz=SHANGHAI, source=f"order:{order['id']}")
    )
    with pytest.raises(Exception, match=r"(?i)unique|duplicate"):
        db.write_sync(lambda c: catalogue.pay_order(c, order["id"], SHANGHAI))
    assert db.read_sync(catalogue.list_orders)[0]["state"] == "pending"
    assert [k for k, *_ in _ledger(db, tenant)] == ["grant"]
    count = select(func.count()).select_from(s.packages)
    assert db.read_sync(lambda c: c.execute(count).scalar_one()) == 1


def test_order_lists_filter_by_state_and_stop_at_a_limit(db: Database) -> None:
    tenant, offer = _tenant(db), _offer(db)
    ids = [
        db.write_sync(lambda c: catalogue.create_order(c, tenant, offer, SHANGHAI))["id"]
        for _ in range(4)
    ]
    db.write_sync(lambda c: catalogue.pay_order(c, ids[0], SHANGHAI))
    db.write_sync(lambda c: catalogue.cancel_order(c, ids[2]))
    pending = db.read_sync(lambda c: catalogue.list_orders(c, state="pending"))
    assert [o["id"] for o in pending] == [ids[1], ids[3]]
    first = db.read_sync(lambda c: catalogue.list_orders(c, state="pending", limit=1))
    assert [o["id"] for o in first] == [ids[1]]
    assert len(db.read_sync(lambda c: catalogue.list_orders(c, tenant))) == 4
