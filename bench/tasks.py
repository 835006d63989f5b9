"""Benchmark bulk tasks in process: reading a list, checking it into a draft, and feeding it.

    .venv/bin/python bench/tasks.py --rows 200000 --runs 3

Prints, for each run and as medians: the rows a second read from a CSV upload
(``read_recipients``), checked and stored as a draft (``TaskService.draft``), and fed to
ACCEPT by the feeder when the task's rate does not hold it back (each feed transaction takes
``MAX_FEED`` numbers, as a worker that fell behind would), plus the peak RSS. SQLite by
default; ``--database-url`` for PostgreSQL.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from smscloud.cli.demo_data import DEMO_NOTICE, approved_sign, approved_template  # noqa: E402
from smscloud.config import Settings  # noqa: E402
from smscloud.delivery.task_feeder import TaskFeeder  # noqa: E402
from smscloud.domain.recipients import read_recipients  # noqa: E402
from smscloud.platform import Platform  # noqa: E402
from smscloud.services import tasks as send_tasks  # noqa: E402
from smscloud.services.accounts import tenants as accounts  # noqa: E402
from smscloud.services.billing import wallet  # noqa: E402


def recipient_csv(rows: int) -> bytes:
    lines = ["手机号,姓名,订单号"]
    lines += [f"139{10_000_000 + i:08d},客户{i},NO{i:06d}" for i in range(rows)]
    return "\n".join(lines).encode()


async def one_run(rows: int, url: str | None, data_dir: Path) -> dict[str, float]:
    settings = Settings(data_dir=data_dir, database_url=url or f"sqlite:///{data_dir / 'bench.db'}")
    platform = Platform(settings)
    await platform.start(deliver=False)
    try:

        def make(conn):  # type: ignore[no-untyped-def]
            t = accounts.create_tenant(conn, f"bench{time.time_ns()}", "enterprise", verified=True)
            app = accounts.create_app(
                conn, t.id, "bench", freq_30s=None, freq_hour=None, freq_day=None
            )
            wallet.grant_package(conn, t.id, rows * 2)
            approved_sign(conn, t.id, "压测")
            tpl = approved_template(conn, t.id, "notice", DEMO_NOTICE, sms_type=2)
            return t.id, app.sdk_app_id, str(tpl)

        tenant, sdk_app_id, template = await platform.db.write(make)
        data = recipient_csv(rows)
        started = time.perf_counter()
        parsed = read_recipients("list.csv", data)
        read_s = time.perf_counter() - started

        started = time.perf_counter()
        draft = await platform.tasks.draft(
            tenant,
            sdk_app_id=sdk_app_id,
            sign_name="压测",
            template_id=template,
            name="list.csv",
            rows=parsed,
            rate=max(send_tasks.RATES),
        )
        draft_s = time.perf_counter() - started
        assert draft.plan.valid == rows, draft.plan
        await platform.tasks.confirm(tenant, draft.task_id)

        clock = [time.time()]
        feeder = TaskFeeder(platform.db, settings.tz, clock=lambda: clock[0])
        fed = 0
        started = time.perf_counter()
        while fed < rows:
            clock[0] += send_tasks.MAX_FEED / max(send_tasks.RATES)  # owe one full feed
            fed += await feeder.feed_round()
        feed_s = time.perf_counter() - started
        return {
            "read_rows_s": rows / read_s,
            "draft_rows_s": rows / draft_s,
            "feed_numbers_s": rows / feed_s,
        }
    finally:
        await platform.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    results = []
    for run in range(args.runs):
        with tempfile.TemporaryDirectory(prefix="smscloud-tasks-") as tmp:
            result = asyncio.run(one_run(args.rows, args.database_url, Path(tmp)))
        results.append(result)
        print(f"run {run + 1}: " + ", ".join(f"{k} {v:,.0f}" for k, v in result.items()))
    print(f"median of {args.runs} runs, {args.rows:,} rows:")
    for key in results[0]:
        print(f"  {key:16} {statistics.median(r[key] for r in results):>12,.0f}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"  peak RSS         {peak:>12,.0f} MB")


if __name__ == "__main__":
    main()
