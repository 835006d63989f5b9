"""The console's words in Chinese (default) and English; ``?lang=`` sets a cookie."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.requests import Request

LANGS = ("zh", "en")
DEFAULT = "zh"
COOKIE = "smscloud_lang"


class _Strings(dict[str, tuple[str, str]]):
    """The string table; each page module adds its own. A key given two different texts is
    an error at import, not a page that silently shows another page's words."""

    def update(self, *args: Any, **kwargs: Any) -> None:
        for key, value in dict(*args, **kwargs).items():
            if key in self and self[key] != value:
                raise ValueError(f"console string {key!r} is defined twice, differently")
            self[key] = value


_BASE: dict[str, tuple[str, str]] = {
    # key: (zh, en)
    "brand": ("云短信", "SMS Cloud"),
    "compatible": ("兼容腾讯云短信 API", "Tencent Cloud SMS compatible"),
    "console": ("控制台", "Console"),
    "admin": ("运营后台", "Operator console"),
    "login": ("登录", "Log in"),
    "logout": ("退出", "Log out"),
    "signup": ("注册", "Sign up"),
    "signup_title": ("注册账号", "Create an account"),
    "login_title": ("登录控制台", "Log in to the console"),
    "admin_login_title": ("运营人员登录", "Operator log in"),
    "email": ("邮箱", "Email"),
    "username": ("用户名", "Username"),
    "password": ("密码", "Password"),
    "password2": ("确认密码", "Password again"),
    "password_hint": ("至少 10 个字符", "At least 10 characters"),
    "name": ("公司或个人名称", "Company or person name"),
    "account_type": ("账号类型", "Account type"),
    "individual": ("个人", "Individual"),
    "enterprise": ("企业", "Enterprise"),
    "have_account": ("已有账号？", "Already have an account?"),
    "no_account": ("还没有账号？", "No account yet?"),
    "dashboard": ("概览", "Dashboard"),
    "sms_service": ("短信服务", "SMS service"),
    "sms_on": ("已开通", "Active"),
    "sms_off": ("未开通", "Not activated"),
    "activate_sms": ("开通短信服务", "Activate SMS"),
    "activate_note": (
        "实名认证已通过。开通短信服务后即可创建应用、申请签名和模板并发送短信。",
        "Your identity is verified. Activate SMS to create applications and send.",
    ),
    "activate_first": (
        "请先完成实名认证并开通短信服务。",
        "Verify your identity and activate SMS first.",
    ),
    "activated": ("短信服务已开通。", "SMS is activated."),
    "contacts_link": ("通知联系人与余量提醒", "Notification contacts and alarms"),
    "change_password": ("修改密码", "Change password"),
    "current_password": ("当前密码", "Current password"),
    "new_password": ("新密码", "New password"),
    "save": ("保存", "Save"),
    "identity": ("实名认证", "Identity"),
    "nav_signs": ("签名", "Signatures"),
    "nav_records": ("发送记录", "Records"),
    "nav_packages": ("套餐包", "Packages"),
    "nav_bills": ("账单", "Bills"),
    "nav_keys": ("API 密钥", "API keys"),
    "nav_tenants": ("租户", "Tenants"),
    "nav_billing": ("计费", "Billing"),
    "nav_carriers": ("通道与路由", "Carriers"),
    "nav_audit": ("操作日志", "Audit log"),
    "app_settings": ("应用设置", "Settings"),
    "nav_templates": ("模板", "Templates"),
    "nav_reviews": ("签名与模板审核", "Sign & template reviews"),
    "nav_identities": ("实名审核", "Identity reviews"),
    "verified": ("已认证", "Verified"),
    "unverified": ("未认证", "Not verified"),
    "unverified_note": (
        "实名认证完成前，您不能发送短信，也不能申请签名和模板。运营人员审核通过后即可使用。",
        "Until your identity is verified you cannot send messages nor apply for signatures "
        "and templates. An operator verifies the account.",
    ),
    "units_left": ("剩余条数", "Units left"),
    "units_granted": ("总条数", "Units granted"),
    "units_used": ("已用条数", "Units used"),
    "packages": ("套餐包", "Packages"),
    "amount": ("总量", "Amount"),
    "used": ("已用", "Used"),
    "remaining": ("剩余", "Remaining"),
    "expires": ("到期时间", "Expires"),
    "type": ("类型", "Type"),
    "gifted": ("赠送", "Gifted"),
    "purchased": ("购买", "Purchased"),
    "no_packages": ("暂无套餐包。", "No packages yet."),
    "applications": ("应用", "Applications"),
    "app_name": ("应用名称", "Application name"),
    "created": ("创建时间", "Created"),
    "status": ("状态", "Status"),
    "no_apps": ("暂无应用。", "No applications yet."),
    "create_app": ("创建应用", "Create application"),
    "app_created": ("应用已创建", "Application created"),
    "app_key_once": (
        "请立即复制并妥善保存 AppKey：它只显示这一次。",
        "Copy the AppKey now and keep it safe: it is shown only this once.",
    ),
    "app_detail": ("应用详情", "Application"),
    "back": ("返回", "Back"),
    "tenants": ("租户", "Tenants"),
    "tenant_count": ("租户数", "Tenants"),
    "pending_reviews": ("待审核", "Pending reviews"),
    "pending_note": (
        "实名、签名和模板待审核数",
        "Identities, signatures and templates awaiting review",
    ),
    "active": ("正常", "Active"),
    "suspended": ("已停用", "Suspended"),
    "users": ("用户", "Users"),
    # messages
    "err_required": ("此项必填。", "This field is required."),
    "err_email": ("请输入有效的邮箱地址。", "Enter a valid email address."),
    "err_email_taken": ("该邮箱已注册。", "This email is already registered."),
    "err_password_short": ("密码至少 10 个字符。", "The password needs at least 10 characters."),
    "err_password_long": ("密码过长。", "The password is too long."),
    "err_password_match": ("两次输入的密码不一致。", "The passwords differ."),
    "err_type": ("请选择账号类型。", "Choose an account type."),
    "err_too_long": ("内容过长。", "Too long."),
    "err_login": ("邮箱或密码错误。", "Wrong email or password."),
    "err_admin_login": ("用户名或密码错误。", "Wrong username or password."),
    "err_rate": (
        "登录失败次数过多，请 {minutes} 分钟后再试。",
        "Too many failed attempts; try again in {minutes} minutes.",
    ),
    "err_rate_1": (
        "登录失败次数过多，请 1 分钟后再试。",
        "Too many failed attempts; try again in a minute.",
    ),
    "err_suspended": (
        "该账号已被停用，请联系运营人员。",
        "This account is suspended; please contact the operator.",
    ),
    "err_current_password": ("当前密码错误。", "The current password is wrong."),
    "signed_up": ("注册成功，请登录。", "Your account is ready; please log in."),
    "logged_out": ("您已退出。", "You are logged out."),
    "expired": ("会话已过期，请重新登录。", "Your session expired; please log in again."),
    "password_changed": ("密码已修改。", "Your password was changed."),
    "csrf_title": ("请求被拒绝", "Request refused"),
    "csrf_body": (
        "安全校验失败（缺少或无效的 CSRF 令牌）。请返回并刷新页面后重试。",
        "The security check failed (missing or invalid CSRF token). "
        "Go back, reload the page and try again.",
    ),
    "not_found": ("页面不存在", "Not found"),
    "not_found_body": ("您要找的内容不存在。", "What you are looking for does not exist."),
    "unreadable_title": ("请求无法处理", "Request refused"),
    "unreadable_body": (
        "请求中含有无法保存的字符（NUL）。请检查填写的内容后重试。",
        "The request holds a character that cannot be stored (NUL). Check what was entered "
        "and try again.",
    ),
    "too_large_title": ("提交的内容过大", "Too large"),
    "too_large_body": (
        "提交的表单超过了此页面允许的大小，未被处理。",
        "The form is larger than this page accepts; nothing was done.",
    ),
    "lang_switch": ("English", "中文"),
}
STRINGS = _Strings(_BASE)


def pick(request: Request) -> str:
    """The language of this request: ``?lang=``, else the cookie, else Chinese."""
    for value in (request.query_params.get("lang"), request.cookies.get(COOKIE)):
        if value in LANGS:
            return value
    return DEFAULT


def translator(lang: str) -> Callable[..., str]:
    """``t(key)`` in ``lang``; ``t(key, minutes=3)`` fills the string's ``{minutes}``."""
    index = LANGS.index(lang) if lang in LANGS else 0

    def t(key: str, **values: object) -> str:
        pair = STRINGS.get(key)
        text = pair[index] if pair else key
        return text.format(**values) if values else text

    return t
