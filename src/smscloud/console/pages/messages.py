"""The tenant's console messages (站内信): the list, one message (opening it marks it read),
and "mark all read". The header's unread count is read with the session (``SignedIn``).

Each message is stored as its kind and values (``services/inbox.py``); the words are here,
in the page's language. Another tenant's message is a 404.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import Connection
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from smscloud.console import i18n
from smscloud.console.guard import tenant_id, tenant_page
from smscloud.services import inbox

if TYPE_CHECKING:
    from smscloud.console.app import Console

i18n.STRINGS.update(
    {
        "msg_nav": ("站内信", "Messages"),
        "msg_unread_label": ("{n} 条未读", "{n} unread"),
        "msg_title": ("站内信", "Messages"),
        "msg_intro": (
            "审核结果、余量告警、发送上限、账单和欠费都会记在这里；邮件和短信按通知联系人的选择另行发送。",
            "Review results, low-balance alarms, daily limits, bills and arrears are kept here; "
            "emails and text messages also go to the notification contacts that chose them.",
        ),
        "msg_contacts_link": ("管理通知联系人", "Manage notification contacts"),
        "msg_none": ("还没有消息。", "No messages yet."),
        "msg_mark_all": ("全部标为已读", "Mark all read"),
        "msg_all_read": ("所有消息已标为已读。", "All messages are marked read."),
        "msg_unread": ("未读", "Unread"),
        "msg_read": ("已读", "Read"),
        "msg_kind": ("类型", "Kind"),
        "msg_subject": ("标题", "Subject"),
        "msg_time": ("时间", "Time"),
        "msg_state": ("状态", "State"),
        "msg_back": ("返回站内信", "Back to messages"),
        "msg_kind_review": ("审核结果", "Review result"),
        "msg_kind_balance": ("余量告警", "Low balance"),
        "msg_kind_limit": ("发送上限", "Daily limit"),
        "msg_kind_bill": ("账单", "Bills"),
        "msg_kind_arrears": ("欠费", "Arrears"),
        "msg_item_identity": ("资质", "Identity"),
        "msg_item_sign": ("签名", "Signature"),
        "msg_item_template": ("模板", "Template"),
        "msg_item_voice_template": ("语音模板", "Voice template"),
        "msg_item_voice_file": ("语音文件", "Voice file"),
        "msg_review_ok": ("{item}审核通过：", "{item} approved: "),
        "msg_review_no": ("{item}审核未通过：", "{item} rejected: "),
        "msg_review_ok_body": (
            "您提交的内容已审核通过，现在可以使用。",
            "What you submitted has been approved and can be used now.",
        ),
        "msg_review_no_body": (
            "您提交的内容未通过审核，请按原因修改后重新提交。",
            "What you submitted was rejected; correct it as the reason says and submit it again.",
        ),
        "msg_reason": ("原因", "Reason"),
        "msg_no_reason": ("未说明", "Not given"),
        "msg_balance_title": ("短信套餐包余量不足", "SMS packages running low"),
        "msg_balance_body": (
            "您的短信套餐包剩余 {remaining} 条，已低于告警阈值 {threshold} 条。"
            "余量用尽后短信将无法发送，请及时购买套餐包。",
            "Your SMS packages have {remaining} messages left, below the alarm threshold of "
            "{threshold}. Sending stops when they run out; buy a new package in time.",
        ),
        "msg_limit_title": ("应用已达日发送上限：", "Daily limit reached: "),
        "msg_limit_body": (
            "该应用今日发送量已达上限 {limit} 条，今日后续短信将被拒绝，次日零点恢复。"
            "如需提高上限，请在应用设置中调整。",
            "The application has reached its daily limit of {limit} messages. Further "
            "messages are refused until midnight; the limit can be raised in its settings.",
        ),
        "msg_bill_title": ("{month} 账单待支付", "Bill for {month} unpaid"),
        "msg_bill_body": (
            "您 {month} 的短信账单金额 ¥{amount} 尚未支付，请于 {due} 前完成支付，"
            "逾期可能暂停发送服务。",
            "Your bill for {month}, ¥{amount}, is unpaid. Pay it by {due}; after that, "
            "sending may be suspended.",
        ),
        "msg_arrears_title": ("{month} 账单已逾期", "Bill for {month} overdue"),
        "msg_arrears_body": (
            "您 {month} 的短信账单金额 ¥{amount} 已于 {due} 到期，至今未支付，发送服务已暂停。"
            "支付后即恢复。",
            "Your bill for {month}, ¥{amount}, was due by {due} and is still unpaid: sending "
            "is suspended until it is paid.",
        ),
        "msg_see_packages": ("查看套餐包", "See packages"),
        "msg_see_bills": ("查看账单", "See bills"),
        "msg_see_signs": ("查看签名", "See signatures"),
        "msg_see_templates": ("查看模板", "See templates"),
        "msg_see_identity": ("查看资质", "See identity"),
        "msg_see_voice": ("查看语音", "See voice"),
    }
)


class MessagePages:
    def __init__(self, console: Console) -> None:
        self.c = console

    @tenant_page
    async def index(self, request: Request) -> Response:
        tid = tenant_id(request)

        def load(conn: Connection) -> tuple[list[inbox.Message], int]:
            return inbox.messages(conn, tid), inbox.unread(conn, tid)

        rows, unread = await self.c.platform.db.read(load)
        context = {"area": "console", "user": request.session, "messages": rows}
        return self.c.render(request, "console/messages.html", context | {"unread": unread})

    @tenant_page
    async def show(self, request: Request) -> Response:
        tid, message_id, now = tenant_id(request), request.path_params["item_id"], self.c.clock()

        def open_it(conn: Connection) -> tuple[inbox.Message | None, int]:
            found = inbox.open_message(conn, tid, message_id, now)
            return found, inbox.unread(conn, tid)

        found, unread = await self.c.platform.db.write(open_it)
        if found is None:
            return self.c.not_found(request)
        context = {"area": "console", "user": request.session, "m": found, "unread": unread}
        return self.c.render(request, "console/message.html", context)

    @tenant_page
    async def mark_all(self, request: Request, form: FormData) -> Response:
        tid, now = tenant_id(request), self.c.clock()
        await self.c.platform.db.write(lambda c: inbox.mark_all_read(c, tid, now))
        self.c.flash(request, "msg_all_read", "ok")
        return self.c.redirect("/console/messages")


def routes(console: Console) -> tuple[list[BaseRoute], list[BaseRoute]]:
    """(routes under /console, routes under /admin)."""
    pages = MessagePages(console)
    tenant: list[BaseRoute] = [
        Route("/messages", pages.index, methods=["GET"]),
        Route("/messages/read-all", console.posted(pages.mark_all), methods=["POST"]),
        Route("/messages/{item_id:id}", pages.show, methods=["GET"]),
    ]
    return tenant, []
