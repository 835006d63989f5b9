"""Frequency limits hold exactly when several platforms send to one number at once.

Two platforms on one database stand for two ``smscloud api`` processes: each has its own
group-commit writer and connection. On PostgreSQL their ACCEPT transactions run side by side
(READ COMMITTED) and must serialise per number; on SQLite the write lock already does.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import Connection

from smscloud.clock import Clock
from smscloud.platform import Platform
from smscloud.services.accounts import tenants
from smscloud.services.billing import wallet
from smscloud.services.sending.sms import SendRequest
from tests.conftest import make_settings
from tests.support.clocks import DAYTIME, running_from
from tests.support.live import approved_sign, approved_template

PHONE = "+8613800138000"
PLATFORMS = 2
SENDERS = 24


def _tenant(platform: Platform, now: float) -> tuple[int, str, str]:
    def make(conn: Connection) -> tuple[int, str, str]:
        t = tenants.create_tenant(conn, "T", "enterprise", verified=True, now=now)
        app = tenants.create_app(conn, t.id, "a", now=now)  # Tencent's default policy
        wallet.grant_package(conn, t.id, 1000, now=now)
        approved_sign(conn, t.id, "签名")
        tid = approved_template(conn, t.id, "验证码{1}")
        return t.id, app.sdk_app_id, str(tid)

    return platform.db.write_sync(make)


def _race(tmp_path: Path, database_url: str, params: list[str]) -> list[str]:
    """Send to PHONE once per entry of ``params``, all at once through PLATFORMS platforms."""
    clock: Clock = running_from(DAYTIME)  # one natural day, whatever the machine's time
    platforms = [
        Platform(make_settings(tmp_path / str(i), database_url), clock=clock)
        for i in range(PLATFORMS)
    ]

    async def main() -> list[str]:
        for p in platforms:
            await p.start(deliver=False)
        try:
            tenant_id, sdk_app_id, template_id = _tenant(platforms[0], clock())

            async def one(i: int, param: str) -> str:
                req = SendRequest(tenant_id, sdk_app_id, [PHONE], template_id, "签名", [param])
                _, out = await platforms[i % PLATFORMS].sender.send(req)
                return out[0].code

            return list(await asyncio.gather(*(one(i, p) for i, p in enumerate(params))))
        finally:
            for p in platforms:
                await p.stop()

    return asyncio.run(main())


def test_same_content_is_accepted_once_in_30_seconds(tmp_path: Path, database_url: str) -> None:
    codes = _race(tmp_path, database_url, ["1234"] * SENDERS)
    assert codes.count("Ok") == 1
    assert set(codes) == {"Ok", "LimitExceeded.PhoneNumberThirtySecondLimit"}


def test_a_number_gets_exactly_its_daily_limit(tmp_path: Path, database_url: str) -> None:
    codes = _race(tmp_path, database_url, [str(i) for i in range(SENDERS)])
    assert codes.count("Ok") == 10  # Tencent's default: 10 per natural day
    assert set(codes) == {"Ok", "LimitExceeded.PhoneNumberDailyLimit"}
