"""The records and statistics pages' application, signature and template filters, and their
CSV and XLSX exports, over real HTTP against a live server with a fixed clock."""

from __future__ import annotations

import asyncio
import csv
import io
import re
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

import httpx
import pytest
from openpyxl import load_workbook
from sqlalchemy import Connection, insert, update

from smscloud.console.downloads import Sheet, csv_chunks
from smscloud.services.accounts import tenants
from smscloud.services.record_export import record_batches
from smscloud.services.reports import RecordFilter
from smscloud.store import schema as s
from tests.conftest import make_settings
from tests.integration.console.test_http import PASSWORD, base, login
from tests.support.clocks import DAYTIME, ManualClock
from tests.support.live import LiveServer, Tenant, approved_sign, approved_template

T = TypeVar("T")
NOW = DAYTIME.timestamp()  # 2026-06-16 10:00 in Shanghai


@pytest.fixture
def live(tmp_path: Path) -> Iterator[LiveServer]:
    settings = make_settings(tmp_path, f"sqlite:///{tmp_path / 'console.db'}")
    # No delivery loops: the messages are written by the test, in their final states.
    with LiveServer(settings, clock=ManualClock(DAYTIME), deliver=False) as server:
        yield server


@dataclass
class Account:
    tenant: Tenant
    email: str
    app2: str  # the second application's SdkAppId
    app2_id: int
    sign2: str
    template2: int


def account(live: LiveServer, email: str, sign2: str) -> Account:
    """A tenant with a user, two applications, two signatures and two named templates."""
    tenant = live.tenant(sign="测试签名")

    def make(conn: Connection) -> Account:
        tenants.create_tenant_user(conn, tenant.id, email, PASSWORD)
        app = tenants.create_app(conn, tenant.id, "营销应用", now=NOW)
        approved_sign(conn, tenant.id, sign2, now=NOW)
        template2 = approved_template(conn, tenant.id, "您的订单{1}已发货。", now=NOW)
        t = s.templates
        conn.execute(update(t).where(t.c.id == int(tenant.template_id)).values(name="验证码"))
        conn.execute(update(t).where(t.c.id == template2).values(name="发货通知"))
        return Account(tenant, email, app.sdk_app_id, app.id, sign2, template2)

    return live.admin(make)


def message(
    acct: Account,
    serial: str,
    *,
    at: float,
    second_app: bool = False,
    second_sign: bool = False,
    second_template: bool = False,
    state: str = "DELIVERED",
    phone: str = "+8613800138000",
    content: str = "",
) -> dict[str, Any]:
    """A ``messages`` row in a final state."""
    t = acct.tenant
    sign = acct.sign2 if second_sign else t.sign_name
    receipt = {"DELIVERED": "DELIVRD", "UNDELIVERED": "UNDELIV"}.get(state, "")
    return {
        "serial_no": serial,
        "request_id": "r-" + serial,
        "tenant_id": t.id,
        "app_id": acct.app2_id if second_app else t.app_id,
        "phone": phone,
        "nation_code": "86",
        "iso_code": "CN",
        "international": False,
        "sign_name": sign,
        "template_id": acct.template2 if second_template else int(t.template_id),
        "sms_type": 0,
        "content": content or f"【{sign}】您的验证码是1234，5分钟内有效。",
        "content_key": "k",
        "parts": 1,
        "state": state,
        "request_code": "Ok",
        "created_at": at,
        "done_at": at + 5,
        "receipt_code": receipt,
        "report_state": 2,
    }


def insert_messages(live: LiveServer, rows: list[dict[str, Any]]) -> None:
    live.admin(lambda c: c.execute(insert(s.messages), rows))


def serials(html: str) -> set[str]:
    return set(re.findall(r'id="record-([^"]+)"', html))


def parse_csv(body: bytes) -> list[list[str]]:
    assert body.startswith(b"\xef\xbb\xbf")  # the BOM Excel needs to read UTF-8
    return list(csv.reader(io.StringIO(body[3:].decode("utf-8"))))


def xlsx_rows(body: bytes) -> list[list[Any]]:
    assert body[:2] == b"PK"  # a zip
    book = load_workbook(io.BytesIO(body), read_only=True)
    sheet = book.worksheets[0]
    rows = [["" if v is None else v for v in row] for row in sheet.iter_rows(values_only=True)]
    book.close()
    return rows


def two_tenants(live: LiveServer) -> tuple[Account, Account]:
    ann = account(live, "ann@example.com", "安安商城")
    bob = account(live, "bob@example.com", "鲍勃物流")
    insert_messages(
        live,
        [
            message(ann, "a-plain", at=NOW - 3600),
            message(ann, "a-app2", at=NOW - 3000, second_app=True, state="UNDELIVERED"),
            message(ann, "a-sign2", at=NOW - 2400, second_sign=True),
            message(
                ann,
                "a-tpl2",
                at=NOW - 1800,
                second_template=True,
                content='=HYPERLINK("http://x")【安安商城】您的订单1已发货。',
            ),
            message(bob, "b-plain", at=NOW - 1200),
            message(bob, "b-app2", at=NOW - 600, second_app=True),
        ],
    )
    return ann, bob


def test_filters_offer_only_the_tenants_own_and_refuse_another_tenants(
    live: LiveServer,
) -> None:
    ann, bob = two_tenants(live)
    with httpx.Client(base_url=base(live)) as client:
        login(client, ann.email)
        page = client.get("/console/records").text
        assert serials(page) == {"a-plain", "a-app2", "a-sign2", "a-tpl2"}
        # The choices are Ann's applications, signatures and templates, none of Bob's.
        assert f'value="{ann.app2}"' in page and f'value="{ann.tenant.sdk_app_id}"' in page
        assert 'value="安安商城"' in page and "鲍勃物流" not in page
        assert f'value="{ann.template2}"' in page and "发货通知" in page
        assert f'value="{bob.app2}"' not in page and f'value="{bob.template2}"' not in page

        by_app = client.get(f"/console/records?app={ann.app2}").text
        assert serials(by_app) == {"a-app2"}
        # The refresh every 10 s asks for the same filters.
        refresh = re.search(r'hx-get="/console/records/rows\?([^"]+)"', by_app)
        assert refresh and f"app={ann.app2}" in refresh.group(1).replace("&amp;", "&")
        assert serials(client.get(f"/console/records/rows?app={ann.app2}").text) == {"a-app2"}
        assert serials(client.get(f"/console/records?sign={quote('安安商城')}").text) == {"a-sign2"}
        by_template = client.get(f"/console/records?template={ann.template2}").text
        assert serials(by_template) == {"a-tpl2"}
        assert f'<option value="{ann.template2}" translate="no" selected>' in by_template
        combined = f"/console/records?template={ann.template2}&app={ann.tenant.sdk_app_id}"
        assert serials(client.get(combined).text) == {"a-tpl2"}
        assert serials(client.get(f"/console/records?app={ann.app2}&state=DELIVERED").text) == set()

        # Bob's application, signature or template typed into the query string: a message
        # beside the field, what was typed kept, and nothing listed, neither his nor Ann's.
        for field, value in (("app", bob.app2), ("sign", bob.sign2), ("template", bob.template2)):
            r = client.get(f"/console/records?{field}={quote(str(value))}")
            assert r.status_code == 200
            assert f'id="e-{field}">本账号没有这个' in r.text
            assert 'id="filter-invalid"' in r.text and serials(r.text) == set()
            assert f'<option value="{value}" translate="no" selected>' in r.text
            assert 'id="export-records-csv"' not in r.text
            rows = client.get(f"/console/records/rows?{field}={quote(str(value))}").text
            assert serials(rows) == set() and 'id="filter-invalid"' in rows
        english = client.get(f"/console/records?app={bob.app2}&lang=en").text
        assert 'id="e-app">This account has no such application' in english

        # Statistics under the same filters: one of Ann's four messages for her second app.
        stats = client.get(f"/console/stats?app={ann.app2}&lang=zh").text
        days = re.search(r'id="table-days">.*?</table>', stats, re.S)
        assert days
        nums = re.findall(r'class="num">([^<]+)<', re.findall(r"<tr>(.*?)</tr>", days[0])[-1])
        assert nums == ["1", "0", "1", "1", "0.0%"]
        assert "UNDELIV" in stats
        everything = client.get("/console/stats").text
        days = re.search(r'id="table-days">.*?</table>', everything, re.S)
        assert days
        nums = re.findall(r'class="num">([^<]+)<', re.findall(r"<tr>(.*?)</tr>", days[0])[-1])
        assert nums == ["4", "3", "1", "4", "75.0%"]
        refused = client.get(f"/console/stats?template={bob.template2}").text
        assert 'id="e-template">本账号没有这个模板' in refused
        assert 'id="filter-invalid"' in refused and 'id="no-failures"' in refused
        assert f'href="/console/export/stats.csv?app={ann.app2}"' in stats


def test_records_export_as_csv_and_xlsx(live: LiveServer) -> None:
    ann, _ = two_tenants(live)
    with httpx.Client(base_url=base(live)) as client:
        login(client, ann.email)
        page = client.get(f"/console/records?app={ann.tenant.sdk_app_id}").text
        link = re.search(r'id="export-records-csv" href="([^"]+)"', page)
        assert link and ">导出 CSV<" in page and ">导出 XLSX<" in page
        r = client.get(link.group(1).replace("&amp;", "&"))
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
        disposition = r.headers["content-disposition"]
        assert disposition.startswith('attachment; filename="records-20260616-1000.csv"')
        assert "filename*=UTF-8''records-20260616-1000.csv" in disposition
        rows = parse_csv(r.content)
        assert rows[0] == [
            "发送时间", "手机号码", "应用 SdkAppId", "签名名称", "模板 ID", "模板名称",
            "短信内容", "计费条数", "状态", "状态代码", "回执", "回执码", "受理结果",
            "受理错误码", "流水号", "完成时间",
        ]  # fmt: skip
        by_serial = {row[14]: row for row in rows[1:]}
        assert list(by_serial) == ["a-tpl2", "a-sign2", "a-plain"]  # newest first
        plain = by_serial["a-plain"]
        assert plain[0] == "2026-06-16 09:00:00" and plain[15] == "2026-06-16 09:00:05"
        assert plain[1:6] == [
            "+8613800138000", ann.tenant.sdk_app_id, "测试签名", ann.tenant.template_id, "验证码"
        ]  # fmt: skip
        assert plain[7:14] == ["1", "已送达", "DELIVERED", "已送达", "DELIVRD", "", "Ok"]
        # What a tenant wrote is never a formula in the file.
        assert by_serial["a-tpl2"][6].startswith("'=HYPERLINK(")
        assert by_serial["a-tpl2"][5] == "发货通知"

        # The same as XLSX, in English (the page's language), with the state in words.
        client.get("/console/records?lang=en")
        r = client.get("/console/export/records.xlsx", params={"app": ann.app2})
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("application/vnd.openxmlformats")
        assert "records-20260616-1000.xlsx" in r.headers["content-disposition"]
        cells = xlsx_rows(r.content)
        assert cells[0][:3] == ["Sent at", "Phone", "Application SdkAppId"]
        assert len(cells) == 2
        row = cells[1]
        assert row[0] == "2026-06-16 09:10:00" and row[2] == ann.app2 and row[14] == "a-app2"
        assert row[8:12] == ["Undelivered", "UNDELIVERED", "The number does not exist", "UNDELIV"]
        # A formula in a template's text stays text in the workbook, too.
        r = client.get("/console/export/records.xlsx", params={"template": ann.template2})
        row = xlsx_rows(r.content)[1]
        assert row[6].startswith("=HYPERLINK(")
        book = load_workbook(io.BytesIO(r.content))
        assert book.worksheets[0]["G2"].data_type == "s"

        # Filters apply: a phone nobody was sent to gives the header alone.
        r = client.get("/console/export/records.csv?phone=13900000000")
        nobody = parse_csv(r.content)
        assert len(nobody) == 1 and nobody[0][0] == "Sent at"
        assert client.get("/console/export/records.pdf").status_code == 404


def test_exports_are_the_tenants_own(live: LiveServer) -> None:
    ann, bob = two_tenants(live)
    with httpx.Client(base_url=base(live)) as client:
        login(client, bob.email)
        rows = parse_csv(client.get("/console/export/records.csv").content)
        assert {row[14] for row in rows[1:]} == {"b-plain", "b-app2"}
        # Ann's application named in Bob's query: the page with its message, no file.
        for kind in ("csv", "xlsx"):
            r = client.get(f"/console/export/records.{kind}", params={"app": ann.app2})
            assert r.headers["content-type"].startswith("text/html")
            assert 'id="e-app"' in r.text and "a-app2" not in r.text
            r = client.get(f"/console/export/stats.{kind}", params={"template": ann.template2})
            assert r.headers["content-type"].startswith("text/html")
            assert 'id="e-template"' in r.text
        stats = parse_csv(client.get("/console/export/stats.csv").content)
        assert sum(int(row[2]) for row in stats[1:] if row[0] == "按天") == 2
    with httpx.Client(base_url=base(live), follow_redirects=False) as anon:
        for path in ("/console/export/records.csv", "/console/export/stats.xlsx"):
            r = anon.get(path)
            assert r.status_code == 303 and r.headers["location"] == "/console/login"


def test_statistics_export(live: LiveServer) -> None:
    ann, _ = two_tenants(live)
    with httpx.Client(base_url=base(live)) as client:
        login(client, ann.email)
        r = client.get("/console/export/stats.csv", params={"sign": "测试签名"})
        assert "stats-20260616-1000.csv" in r.headers["content-disposition"]
        rows = parse_csv(r.content)
        assert rows[0] == ["粒度", "时段开始", "发送", "成功", "失败", "计费条数", "成功率（%）"]
        hours = [row for row in rows[1:] if row[0] == "按小时"]
        days = [row for row in rows[1:] if row[0] == "按天"]
        assert len(hours) == 24 and len(days) == 14
        assert hours[-1][1] == "2026-06-16 10:00" and days[-1][1] == "2026-06-16 00:00"
        # Of the testing signature: the plain message, the second app's and the template's.
        nine = next(row for row in hours if row[1] == "2026-06-16 09:00")
        assert nine[2:] == ["3", "2", "1", "3", "66.7"]
        assert days[-1][2:] == ["3", "2", "1", "3", "66.7"]
        client.get("/console/stats?lang=en")
        cells = xlsx_rows(client.get("/console/export/stats.xlsx").content)
        assert cells[0][:2] == ["Granularity", "Period start"]
        assert cells[-1][:7] == ["By day", "2026-06-16 00:00", 4, 3, 1, 4, 75]


def counting(read: Callable[[Callable[[Connection], T]], Any], calls: list[int]) -> Any:
    async def wrapped(fn: Callable[[Connection], T]) -> T:
        calls.append(1)
        return await read(fn)  # type: ignore[no-any-return]

    return wrapped


def test_a_large_export_streams_in_batches(live: LiveServer) -> None:
    ann = account(live, "ann@example.com", "安安商城")
    many = 20_500
    rows = [
        message(ann, f"s{i:06d}", at=NOW - 80_000 + i * 3, phone=f"+86138{i:08d}")
        for i in range(many)
    ]
    for start in range(0, many, 5000):
        insert_messages(live, rows[start : start + 5000])

    # The records are read a batch at a time, and each batch is written out before the next
    # is read: when the first rows are out, the database has been asked once.
    async def first_chunks() -> tuple[int, int, int]:
        calls: list[int] = []
        wanted = RecordFilter(begin=NOW - 86400, end=NOW)
        batches = record_batches(counting(live.platform.db.read, calls), ann.tenant.id, wanted)
        chunks = csv_chunks([Sheet("records", ["serial"], _serials(batches))])
        await anext(chunks)  # the BOM and the header
        first = await anext(chunks)
        reads_at_first = len(calls)
        count = 1 + sum([1 async for _ in chunks])
        return reads_at_first, len(first.splitlines()), count

    reads, lines, chunk_count = asyncio.run(first_chunks())
    assert reads == 1 and lines == 1000
    assert chunk_count == 21  # 20 full batches and one of 500

    with httpx.Client(base_url=base(live), timeout=120) as client:
        login(client, ann.email)
        with client.stream("GET", "/console/export/records.csv") as r:
            assert r.status_code == 200
            assert "content-length" not in r.headers  # sent as it is written
            body = b"".join(r.iter_bytes())
        table = parse_csv(body)
        assert len(table) == many + 1
        assert table[1][14] == f"s{many - 1:06d}" and table[-1][14] == "s000000"
        assert len({row[14] for row in table[1:]}) == many  # no row twice, none lost

        before = set(Path(tempfile.gettempdir()).glob("smscloud-export-*"))
        r = client.get("/console/export/records.xlsx")
        # Read as the zip of XML it is (openpyxl would take long to load it back).
        with zipfile.ZipFile(io.BytesIO(r.content)) as book:
            sheet = book.read("xl/worksheets/sheet1.xml").decode()
        assert sheet.count("<row ") == many + 1
        assert sheet.rfind("s000000") > sheet.rfind(f"s{many - 1:06d}") > sheet.find("发送时间")
        # The workbook's temporary file is gone once it was sent.
        assert set(Path(tempfile.gettempdir()).glob("smscloud-export-*")) <= before


async def _serials(batches: Any) -> Any:
    async for batch in batches:
        yield [[r.serial_no] for r in batch]
