"""Packages, orders and bills: the tenant's pages and the operator's.

The rules live in the services (``services/billing/orders.py``, ``postpaid.py``,
``wallet.py``, ``services/accounts/tenants.py``); these pages only collect input, show what
the rules say, and never read another tenant's rows.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection
from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from smscloud.console import i18n
from smscloud.console.forms import FORM_MAX, whole
from smscloud.console.forms import text as _text
from smscloud.console.guard import operator_page, tenant_id, tenant_page
from smscloud.domain.billing.bills import Bill
from smscloud.domain.billing.money import parse_yuan
from smscloud.domain.errors import RuleViolation
from smscloud.domain.phone import parse_phone
from smscloud.services.accounts import tenants as accounts
from smscloud.services.billing import ledger, postpaid, wallet
from smscloud.services.billing import orders as catalogue

if TYPE_CHECKING:
    from smscloud.console.app import Console

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MAX_CONTACTS = 20
MAX_PRICE_CSV = 2 * 1024 * 1024
UPLOADS = {"/admin/billing/prices": MAX_PRICE_CSV + FORM_MAX}
ADMIN_ROWS = 200  # pending orders (oldest first) and bills (unpaid, then newest) shown

i18n.STRINGS.update(
    {
        "bl_nav_packages": ("套餐包", "Packages"),
        "bl_nav_bills": ("账单", "Bills"),
        "bl_nav_billing": ("计费管理", "Billing"),
        "bl_effective": ("生效时间", "Effective"),
        "bl_free_allowance": ("每月免费额度", "Free allowance"),
        "bl_catalogue": ("套餐目录", "Catalogue"),
        "bl_offer_name": ("套餐名称", "Offer"),
        "bl_units": ("条数", "Units"),
        "bl_price": ("价格（元）", "Price (CNY)"),
        "bl_validity_days": ("有效天数", "Valid days"),
        "bl_order": ("购买", "Order"),
        "bl_free": ("免费", "Free"),
        "bl_no_offers": ("暂无可购买的套餐。", "No offers available."),
        "bl_my_orders": ("我的订单", "My orders"),
        "bl_no_orders": ("暂无订单。", "No orders yet."),
        "bl_order_id": ("订单号", "Order"),
        "bl_state_pending": ("待付款", "Pending payment"),
        "bl_state_paid": ("已支付", "Paid"),
        "bl_state_cancelled": ("已取消", "Cancelled"),
        "bl_order_placed": (
            "订单已提交，运营人员确认付款后套餐包即到账。",
            "Order placed: the package is granted once an operator confirms the payment.",
        ),
        "bl_order_granted": ("免费套餐已到账。", "The free package was granted."),
        "bl_alarm": ("余量告警", "Low-balance alarm"),
        "bl_alarm_threshold": ("告警阈值（剩余条数，0 为关闭）", "Threshold (units left, 0: off)"),
        "bl_alarm_emails": ("联系邮箱（每行一个）", "Contact emails (one a line)"),
        "bl_alarm_phones": ("联系手机（每行一个）", "Contact phones (one a line)"),
        "bl_alarm_saved": ("告警设置已保存。", "Alarm settings saved."),
        "bl_err_threshold": ("请输入不小于 0 的整数。", "Enter a whole number of 0 or more."),
        "bl_err_bad_email": ("无效的邮箱地址：", "Not an email address: "),
        "bl_err_bad_phone": ("无效的手机号码：", "Not a phone number: "),
        "bl_err_too_many": ("条目过多。", "Too many entries."),
        "bl_bills": ("账单", "Bills"),
        "bl_month": ("月份", "Month"),
        "bl_total": ("金额（元）", "Total (CNY)"),
        "bl_due": ("付款截止", "Due"),
        "bl_paid": ("已支付", "Paid"),
        "bl_unpaid": ("未支付", "Unpaid"),
        "bl_overdue": ("已逾期", "Overdue"),
        "bl_download": ("下载", "Download"),
        "bl_no_bills": ("暂无账单。", "No bills yet."),
        "bl_suspension_warning": (
            "您有逾期未付的账单：请尽快付款，否则账号将被暂停发送。",
            "You have an overdue bill: pay it soon, or sending will be suspended.",
        ),
        "bl_add_offer": ("新增套餐", "Add offer"),
        "bl_enable": ("启用", "Enable"),
        "bl_disable": ("停用", "Disable"),
        "bl_active": ("已启用", "Active"),
        "bl_inactive": ("已停用", "Disabled"),
        "bl_pending_orders": ("待确认订单", "Pending orders"),
        "bl_confirm_payment": ("确认付款", "Confirm payment"),
        "bl_cancel": ("取消", "Cancel"),
        "bl_mark_paid": ("标记已付", "Mark paid"),
        "bl_price_table": ("价格表", "Price table"),
        "bl_price_csv": ("价格表 CSV 文件", "Price table CSV file"),
        "bl_upload": ("上传", "Upload"),
        "bl_download_prices": ("下载当前价格表", "Download the current table"),
        "bl_prices_imported": ("价格表已更新。", "The price table was replaced."),
        "bl_price_rows": ("价格条目", "Price rows"),
        "bl_err_price_file": ("请上传 UTF-8 编码的 CSV 文件。", "Upload a UTF-8 CSV file."),
        "bl_err_price_yuan": ("请输入有效金额（如 12.5）。", "Enter an amount such as 12.5."),
        "bl_err_positive": ("请输入正整数。", "Enter a positive whole number."),
        "bl_offer_added": ("套餐已新增。", "Offer added."),
        "bl_offer_updated": ("套餐已更新。", "Offer updated."),
        "bl_order_paid": (
            "已确认付款，套餐包已发放。",
            "Payment confirmed; the package is granted.",
        ),
        "bl_order_cancelled": ("订单已取消。", "Order cancelled."),
        "bl_bill_paid": ("账单已标记为已付。", "The bill is marked paid."),
    }
)


def _lines(text: str) -> list[str]:
    return [x.strip() for x in re.split(r"[\n,;]", text) if x.strip()]


def _nonneg(text: str) -> int | None:
    """A whole number of at most 12 digits (units, days, thresholds), or None."""
    return whole(text, hi=10**12 - 1)


def _package_kind(row: wallet.Package) -> str:
    if str(row.source).startswith("free:"):
        return "bl_free_allowance"
    return "gifted" if int(row.package_type) == 0 else "purchased"


def _overdue(bill: dict[str, Any], now: float) -> bool:
    return bill["paid_at"] is None and bill["due_at"] < now and bill["total"] > 0


class BillingPages:
    def __init__(self, console: Console) -> None:
        self.c = console
        self.platform = console.platform

    # -- helpers ----------------------------------------------------------------------------
    @staticmethod
    def _id(request: Request) -> int | None:
        item_id = request.path_params.get("item_id")  # the ``id`` convertor matched it
        return item_id if isinstance(item_id, int) else None

    # -- tenant: packages -------------------------------------------------------------------
    async def _packages_page(
        self,
        request: Request,
        tid: int,
        *,
        values: dict[str, str] | None = None,
        errors: dict[str, str] | None = None,
        status: int = 200,
    ) -> Response:
        def load(conn: Connection) -> dict[str, Any]:
            tenant = accounts.tenant_profile(conn, tid)
            packages = wallet.packages_of(conn, tid)
            offers = catalogue.list_offers(conn, active_only=True)
            names = {o["id"]: o["name"] for o in catalogue.list_offers(conn)}
            orders = catalogue.list_orders(conn, tid)
            for order in orders:
                order["offer_name"] = names.get(order["offer_id"], "")
            return {
                "tenant": tenant,
                "balance": ledger.balances(conn, tid),
                "packages": [
                    {
                        "id": r.id,
                        "amount": r.amount,
                        "used": r.used,
                        "remaining": r.remaining,
                        "effective_at": r.effective_at,
                        "expires_at": r.expires_at,
                        "kind": _package_kind(r),
                    }
                    for r in packages
                ],
                "offers": offers,
                "orders": list(reversed(orders)),
            }

        data = await self.platform.db.read(load)
        tenant = data["tenant"]
        if values is None:
            values = {
                "threshold": str(int(tenant.alarm_threshold)),
                "emails": str(tenant.contact_emails or ""),
                "phones": str(tenant.contact_phones or ""),
            }
        context = {
            "area": "console",
            "user": request.session,
            "now": self.c.clock(),
            "values": values,
            "errors": errors or {},
            **data,
        }
        return self.c.render(request, "console/packages.html", context, status)

    @tenant_page
    async def packages(self, request: Request) -> Response:
        tid = tenant_id(request)
        return await self._packages_page(request, tid)

    @tenant_page
    async def order(self, request: Request, form: FormData) -> Response:
        tid = tenant_id(request)
        offer_id = _nonneg(_text(form, "offer_id"))
        if offer_id is None:
            return await self._packages_page(
                request, tid, errors={"order": "err_required"}, status=400
            )
        tz, now = self.platform.settings.tz, self.c.clock()
        try:
            order = await self.platform.db.write(
                lambda c: catalogue.create_order(c, tid, offer_id, tz, now=now)
            )
        except RuleViolation as e:
            errors = {"order_rule": f"{e.code}: {e.message}"}
            return await self._packages_page(request, tid, errors=errors, status=400)
        self.c.flash(
            request, "bl_order_granted" if order["state"] == "paid" else "bl_order_placed", "ok"
        )
        return self.c.redirect("/console/packages")

    @tenant_page
    async def alarm(self, request: Request, form: FormData) -> Response:
        tid = tenant_id(request)
        values = {k: _text(form, k) for k in ("threshold", "emails", "phones")}
        errors: dict[str, str] = {}
        threshold = _nonneg(values["threshold"])
        if threshold is None:
            errors["threshold"] = "bl_err_threshold"
        emails, phones = _lines(values["emails"]), _lines(values["phones"])
        bad_email = next((e for e in emails if len(e) > 254 or not EMAIL.match(e)), None)
        if len(emails) > MAX_CONTACTS:
            errors["emails"] = "bl_err_too_many"
        elif bad_email is not None:
            errors["emails"] = "bl_err_bad_email"
            errors["emails_item"] = bad_email
        if len(phones) > MAX_CONTACTS:
            errors["phones"] = "bl_err_too_many"
        else:
            for raw in phones:
                try:
                    parse_phone(raw)
                except RuleViolation:
                    errors["phones"], errors["phones_item"] = "bl_err_bad_phone", raw
                    break
        if not errors and threshold is not None:
            try:
                await self.platform.db.write(
                    lambda c: accounts.set_alarm(c, tid, threshold, emails, phones)
                )
            except RuleViolation as e:
                errors["alarm_rule"] = f"{e.code}: {e.message}"
        if errors:
            return await self._packages_page(request, tid, values=values, errors=errors, status=400)
        self.c.flash(request, "bl_alarm_saved", "ok")
        return self.c.redirect("/console/packages")

    # -- tenant: bills ----------------------------------------------------------------------
    @tenant_page
    async def bills(self, request: Request) -> Response:
        tid = tenant_id(request)
        rows = await self.platform.db.read(lambda c: postpaid.list_bills(c, tid))
        now = self.c.clock()
        for row in rows:
            row["overdue"] = _overdue(row, now)
        context = {
            "area": "console",
            "user": request.session,
            "bills": rows,
            "any_overdue": any(r["overdue"] for r in rows),
        }
        return self.c.render(request, "console/bills.html", context)

    async def _own_bill(self, request: Request) -> Bill | None:
        tid, bill_id = tenant_id(request), self._id(request)
        if bill_id is None:
            return None
        return await self.platform.db.read(lambda c: postpaid.tenant_bill(c, tid, bill_id))

    @tenant_page
    async def bill_csv(self, request: Request) -> Response:
        bill = await self._own_bill(request)
        if bill is None:
            return self.c.not_found(request)
        from smscloud.domain.billing.documents import bill_csv  # lazily: fpdf is heavy

        body = bill_csv(bill, self.platform.settings.tz)
        return self._download(body.encode("utf-8-sig"), "text/csv; charset=utf-8", bill, "csv")

    @tenant_page
    async def bill_pdf(self, request: Request) -> Response:
        bill = await self._own_bill(request)
        if bill is None:
            return self.c.not_found(request)
        from smscloud.domain.billing.documents import bill_pdf  # lazily: fpdf is heavy

        body = bill_pdf(bill, self.platform.settings.tz)
        return self._download(body, "application/pdf", bill, "pdf")

    @staticmethod
    def _download(body: bytes, media_type: str, bill: Any, ext: str) -> Response:
        name = f"bill-{bill.month}.{ext}"
        headers = {
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        }
        return Response(body, media_type=media_type, headers=headers)

    # -- operator ---------------------------------------------------------------------------
    async def _admin_page(
        self,
        request: Request,
        *,
        values: dict[str, str] | None = None,
        errors: dict[str, str] | None = None,
        price_errors: list[str] | None = None,
        status: int = 200,
    ) -> Response:
        def load(conn: Connection) -> dict[str, Any]:
            offers = catalogue.list_offers(conn)
            offer_names = {o["id"]: o["name"] for o in offers}
            pending = catalogue.list_orders(conn, state="pending", limit=ADMIN_ROWS)
            wanted = list({o["tenant_id"] for o in pending})
            names = accounts.tenant_names(conn, wanted)
            for order in pending:
                order["tenant_name"] = names.get(order["tenant_id"], "")
                order["offer_name"] = offer_names.get(order["offer_id"], "")
            bills = postpaid.list_bills(conn, limit=ADMIN_ROWS)
            return {
                "offers": offers,
                "pending": pending,
                "bills": bills,
                "price_rows": len(postpaid.load_prices(conn)),
            }

        data = await self.platform.db.read(load)
        now = self.c.clock()
        for row in data["bills"]:
            row["overdue"] = _overdue(row, now)
        context = {
            "area": "admin",
            "user": request.session,
            "values": values or {},
            "errors": errors or {},
            "price_errors": price_errors or [],
            **data,
        }
        return self.c.render(request, "admin/billing.html", context, status)

    @operator_page
    async def admin(self, request: Request) -> Response:
        return await self._admin_page(request)

    @operator_page
    async def add_offer(self, request: Request, form: FormData) -> Response:
        values = {k: _text(form, k) for k in ("name", "units", "price", "validity_days")}
        errors: dict[str, str] = {}
        if not values["name"]:
            errors["name"] = "err_required"
        elif len(values["name"]) > catalogue.NAME_MAX:
            errors["name"] = "err_too_long"
        units, days = _nonneg(values["units"]), _nonneg(values["validity_days"])
        if not units:
            errors["units"] = "bl_err_positive"
        if not days:
            errors["validity_days"] = "bl_err_positive"
        price = None
        try:
            price = parse_yuan(values["price"])
        except ValueError:
            errors["price"] = "bl_err_price_yuan"
        if not errors and units and days and price is not None:
            name, u, p, d, now = values["name"], units, price, days, self.c.clock()
            try:
                await self.platform.db.write(
                    lambda c: catalogue.add_offer(c, name, u, p, d, now=now)
                )
            except RuleViolation as e:
                errors["rule"], errors["rule_message"] = e.code, e.message
        if errors:
            return await self._admin_page(request, values=values, errors=errors, status=400)
        self.c.flash(request, "bl_offer_added", "ok")
        return self.c.redirect("/admin/billing")

    async def _act(self, request: Request, action: Any, flash: str) -> Response:
        item_id = self._id(request)
        if item_id is None:
            return self.c.not_found(request)
        try:
            await self.platform.db.write(lambda c: action(c, item_id))
        except RuleViolation as e:
            if e.code == "ResourceNotFound":
                return self.c.not_found(request)
            errors = {"rule": f"{e.code}: {e.message}"}
            return await self._admin_page(request, errors=errors, status=400)
        self.c.flash(request, flash, "ok")
        return self.c.redirect("/admin/billing")

    @operator_page
    async def set_active(self, request: Request, form: FormData) -> Response:
        active = _text(form, "active") == "1"
        return await self._act(
            request, lambda c, i: catalogue.set_offer_active(c, i, active), "bl_offer_updated"
        )

    @operator_page
    async def pay_order(self, request: Request, form: FormData) -> Response:
        tz, now = self.platform.settings.tz, self.c.clock()
        return await self._act(
            request, lambda c, i: catalogue.pay_order(c, i, tz, now=now), "bl_order_paid"
        )

    @operator_page
    async def cancel_order(self, request: Request, form: FormData) -> Response:
        return await self._act(request, catalogue.cancel_order, "bl_order_cancelled")

    @operator_page
    async def pay_bill(self, request: Request, form: FormData) -> Response:
        now = self.c.clock()
        return await self._act(request, lambda c, i: postpaid.pay_bill(c, i, now), "bl_bill_paid")

    @operator_page
    async def import_prices(self, request: Request, form: FormData) -> Response:
        try:
            return await self._import_prices(request, form)
        finally:
            await form.close()

    async def _import_prices(self, request: Request, form: FormData) -> Response:
        upload = form.get("prices")
        text = None
        if isinstance(upload, UploadFile) and upload.filename:
            raw = await upload.read(MAX_PRICE_CSV + 1)
            if raw and len(raw) <= MAX_PRICE_CSV:
                try:
                    text = raw.decode("utf-8-sig")
                except UnicodeDecodeError:
                    text = None
        if text is None:
            errors = {"prices": "bl_err_price_file"}
            return await self._admin_page(request, errors=errors, status=400)
        csv_text = text
        try:
            await self.platform.db.write(lambda c: postpaid.import_prices(c, csv_text))
        except RuleViolation as e:
            problems = [ln for ln in e.message.splitlines()[1:] if ln.strip()] or [e.message]
            return await self._admin_page(request, price_errors=problems, status=400)
        self.c.flash(request, "bl_prices_imported", "ok")
        return self.c.redirect("/admin/billing")

    @operator_page
    async def export_prices(self, request: Request) -> Response:
        body = await self.platform.db.read(postpaid.export_prices)
        headers = {
            "Content-Disposition": 'attachment; filename="prices.csv"',
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        }
        return Response(body, media_type="text/csv; charset=utf-8", headers=headers)


def routes(console: Console) -> tuple[list[BaseRoute], list[BaseRoute]]:
    """(routes under /console, routes under /admin)."""
    pages = BillingPages(console)
    post = console.posted
    tenant: list[BaseRoute] = [
        Route("/packages", pages.packages, methods=["GET"]),
        Route("/packages/order", post(pages.order), methods=["POST"]),
        Route("/packages/alarm", post(pages.alarm), methods=["POST"]),
        Route("/bills", pages.bills, methods=["GET"]),
        Route("/bills/{item_id:id}.csv", pages.bill_csv, methods=["GET"]),
        Route("/bills/{item_id:id}.pdf", pages.bill_pdf, methods=["GET"]),
    ]
    admin: list[BaseRoute] = [
        Route("/billing", pages.admin, methods=["GET"]),
        Route("/billing/offers", post(pages.add_offer), methods=["POST"]),
        Route("/billing/offers/{item_id:id}/active", post(pages.set_active), methods=["POST"]),
        Route("/billing/orders/{item_id:id}/pay", post(pages.pay_order), methods=["POST"]),
        Route("/billing/orders/{item_id:id}/cancel", post(pages.cancel_order), methods=["POST"]),
        Route("/billing/bills/{item_id:id}/pay", post(pages.pay_bill), methods=["POST"]),
        Route("/billing/prices", post(pages.import_prices), methods=["POST"]),
        Route("/billing/prices.csv", pages.export_prices, methods=["GET"]),
    ]
    return tenant, admin
