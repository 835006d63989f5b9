"""Parts of long messages in the store: what a carrier took survives a retry, a kept part
keeps its receipt, and a part taken twice is counted (``outcomes``, ``counters``)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from sqlalchemy import Connection, select

from smscloud.carriers.base import DELIVERED, Receipt, SubmitResult
from smscloud.delivery import claims, counters, receipts, submits
from smscloud.platform import Platform
from smscloud.services.accounts import tenants
from smscloud.services.billing import wallet
from smscloud.services.sending.sms import SendRequest
from smscloud.store import schema as s
from tests.conftest import make_settings
from tests.support.live import approved_sign, approved_template

m, mp = s.messages, s.message_parts


def on_platform(body: Callable[[Platform, int], Awaitable[None]]) -> Callable[[Path, str], None]:
    """Runs ``body`` with one queued message (its id) on a platform that delivers nothing."""

    def test(tmp_path: Path, database_url: str) -> None:
        async def main() -> None:
            p = Platform(make_settings(tmp_path, database_url))
            await p.start(deliver=False)
            try:

                def make(conn: Connection) -> tuple[int, str, str]:
                    t = tenants.create_tenant(conn, "T", "enterprise", verified=True)
                    app = tenants.create_app(conn, t.id, "a")
                    wallet.grant_package(conn, t.id, 10)
                    approved_sign(conn, t.id, "签名")
                    return (
                        t.id,
                        app.sdk_app_id,
                        str(approved_template(conn, t.id, "码{1}")),
                    )

                tenant, app, tpl = await p.db.write(make)
                await p.sender.send(
                    SendRequest(tenant, app, ["+8613800138000"], tpl, "签名", ["1"])
                )
                mid = await p.db.read(lambda c: c.execute(select(m.c.id)).scalar_one())
                await body(p, mid)
            finally:
                await p.stop()

        asyncio.run(main())

    return test


async def submit(p: Platform, result: SubmitResult) -> list[claims.Claimed]:
    """Claim the message and record ``result`` for it; returns what the claim said."""

    def run(conn: Connection) -> list[claims.Claimed]:
        claimed = claims.claim(conn, 10, time.time(), 30)
        submits.record_submits(
            conn,
            "sim",
            [result],
            time.time(),
            max_attempts=5,
            attempts={c.id: c.attempts for c in claimed},
        )
        return claimed

    return await p.db.write(run)


async def parts(p: Platform) -> list[tuple[str, int, str | None]]:
    q = select(mp.c.carrier_msg_id, mp.c.part_no, mp.c.state).order_by(mp.c.part_no)
    return [tuple(r) for r in await p.db.read(lambda c: c.execute(q).all())]  # type: ignore[misc]


async def state(p: Platform) -> tuple[str, int]:
    q = select(m.c.state, m.c.wire_parts)
    return tuple(await p.db.read(lambda c: c.execute(q).one()))  # type: ignore[return-value]


@on_platform
async def test_taken_parts_are_kept_and_handed_to_the_retry(p: Platform, mid: int) -> None:
    await submit(p, SubmitResult(mid, None, "lost", taken=((1, "A1"),), parts=3))
    assert await state(p) == ("QUEUED", 3)
    assert await parts(p) == [("a1", 1, None)]
    [retry] = await submit(p, SubmitResult(mid, None, "lost", taken=((1, "a1"),), parts=3))
    assert (retry.held_by, retry.taken, retry.wire_parts, retry.attempts) == (
        "sim",
        ((1, "a1"),),
        3,
        2,
    )
    counted = await p.db.read(counters.load)
    assert (counted[counters.PARTS_RESUMED], counted[counters.PARTS_RESENT]) == (1, 0)


@on_platform
async def test_a_kept_part_keeps_the_receipt_it_had_before_the_rest_were_taken(
    p: Platform, mid: int
) -> None:
    await submit(p, SubmitResult(mid, None, "lost", taken=((1, "a1"),), parts=3))
    got = [Receipt(f"a{n}", DELIVERED, "DELIVRD", time.time()) for n in (1, 2, 3)]
    left = await p.db.write(lambda c: receipts.apply_receipts(c, "sim", got[:1]))
    assert left == [] and await state(p) == ("QUEUED", 3)  # not final while parts are missing
    await submit(p, SubmitResult(mid, "a1", part_ids=("a1", "a2", "a3")))
    assert await parts(p) == [("a1", 1, DELIVERED), ("a2", 2, None), ("a3", 3, None)]
    await p.db.write(lambda c: receipts.apply_receipts(c, "sim", got[1:]))
    assert await state(p) == ("DELIVERED", 3)


@on_platform
async def test_a_part_taken_again_is_counted_as_resent(p: Platform, mid: int) -> None:
    await submit(p, SubmitResult(mid, None, "lost", taken=((1, "a1"),), parts=3))
    # A carrier that did not resume: part 1 went again and got another id.
    await submit(p, SubmitResult(mid, "b1", part_ids=("b1", "b2", "b3")))
    assert await parts(p) == [("b1", 1, None), ("b2", 2, None), ("b3", 3, None)]
    counted = await p.db.read(counters.load)
    assert (counted[counters.PARTS_RESENT], counted[counters.PARTS_RESUMED]) == (1, 0)


@on_platform
async def test_parts_of_a_message_recorded_elsewhere_are_left_alone(p: Platform, mid: int) -> None:
    def claim(conn: Connection) -> None:
        claims.claim(conn, 10, time.time(), 30)

    await p.db.write(claim)
    # Another worker (after this one's lease ran out) recorded the message first.
    await p.db.write(
        lambda c: submits.record_submits(
            c,
            "sim",
            [SubmitResult(mid, "x1", part_ids=("x1", "x2"))],
            0.0,
            max_attempts=5,
            attempts={mid: 1},
        )
    )
    late = SubmitResult(mid, "y1", part_ids=("y1", "y2"))
    await p.db.write(
        lambda c: submits.record_submits(c, "sim", [late], 0.0, max_attempts=5, attempts={mid: 1})
    )
    assert await parts(p) == [("x1", 1, None), ("x2", 2, None)]
