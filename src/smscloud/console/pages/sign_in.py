"""Signing up, logging in and out, and changing one's password, in both areas.

Every password check is first reserved against the log-in limits
(``services/accounts/login_gate.py``), so guessing is slow per account and per address; a
good password opens a server-side session (``services/accounts/sessions.py``) whose token the
cookie carries.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from smscloud.console import auth
from smscloud.console.forms import text as _field
from smscloud.console.guard import tenant_page
from smscloud.domain import login_limits
from smscloud.services.accounts import login_gate, sessions, users
from smscloud.services.accounts.sessions import OPERATOR, TENANT
from smscloud.services.accounts.users import OperatorLogin, TenantLogin

if TYPE_CHECKING:
    from smscloud.console.app import Console

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MAX_PASSWORD = 1024


def _secret(form: FormData, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


def _rate_error(minutes: int) -> dict[str, Any]:
    """The page's error for a refused log-in: "try again in N minutes"."""
    return {"error": "err_rate_1" if minutes == 1 else "err_rate", "minutes": minutes}


def _password_errors(password: str, again: str) -> dict[str, str]:
    """A new password's problems, by field: its length, then the second typing."""
    if len(password) < auth.MIN_PASSWORD:
        return {"password": "err_password_short"}
    if len(password) > MAX_PASSWORD:
        return {"password": "err_password_long"}
    if password != again:
        return {"password2": "err_password_match"}
    return {}


class SignInPages:
    def __init__(self, console: Console) -> None:
        self.c = console
        self.platform = console.platform
        settings = console.platform.settings
        self.limits = login_limits.Limits(
            per_account=settings.login_failures_per_account,
            per_address=settings.login_failures_per_address,
            window=settings.login_window_minutes * 60.0,
        )

    # -- log-in limits ----------------------------------------------------------------------
    @staticmethod
    def _ip(request: Request) -> str:
        return request.client.host if request.client else "?"

    async def reserve_check(self, request: Request, account: str) -> int | None:
        """Reserve a password check for ``account`` from this client before checking it:
        None when allowed, else the minutes to wait."""
        now, address = self.c.clock(), login_limits.address_key(self._ip(request))
        refused = await self.platform.db.write(
            lambda c: login_gate.reserve_check(c, account, address, now, self.limits)
        )
        return None if refused is None else refused.minutes(now)

    async def check_passed(self, request: Request, account: str) -> None:
        """The reserved check proved the password: it counts as no failure."""
        address = login_limits.address_key(self._ip(request))
        await self.platform.db.write(lambda c: login_gate.check_passed(c, account, address))

    async def start_session(
        self,
        request: Request,
        realm: str,
        user: TenantLogin | OperatorLogin,
        verdict: auth.Verdict,
        values: dict[str, Any],
    ) -> bool:
        """Sign the browser in as ``user``, whose password was just verified; False when the
        account changed meanwhile (its password, or its tenant suspended)."""
        now = self.c.clock()
        token = await self.platform.db.write(
            lambda c: sessions.start(
                c,
                realm,
                user.id,
                user.password_hash,
                now,
                self.c.session_limits,
                new_hash=verdict.new_hash,
            )
        )
        if token is None:
            return False
        auth.sign_in(request.session, {"realm": realm, "uid": user.id} | values, token)
        return True

    # -- tenants ------------------------------------------------------------------------------
    async def signup_page(self, request: Request) -> Response:
        return self.c.render(request, "console/signup.html", {"area": "console", "values": {}})

    async def signup(self, request: Request, form: FormData) -> Response:
        values = {
            "email": _field(form, "email").lower(),
            "name": _field(form, "name"),
            "account_type": _field(form, "account_type"),
        }
        password, password2 = _secret(form, "password"), _secret(form, "password2")
        errors: dict[str, str] = {}
        if not values["email"]:
            errors["email"] = "err_required"
        elif len(values["email"]) > 254 or not EMAIL.match(values["email"]):
            errors["email"] = "err_email"
        if not values["name"]:
            errors["name"] = "err_required"
        elif len(values["name"]) > 128:
            errors["name"] = "err_too_long"
        if values["account_type"] not in ("individual", "enterprise"):
            errors["account_type"] = "err_type"
        errors |= _password_errors(password, password2)
        if not errors:
            password_hash = await auth.hash_password(password)
            email, name, kind, now = (*values.values(), self.c.clock())
            try:
                await self.platform.db.write(
                    lambda c: users.sign_up(c, email, name, kind, password_hash, now)
                )
            except users.EmailTakenError:
                errors["email"] = "err_email_taken"
        if errors:
            context = {"area": "console", "values": values, "errors": errors}
            return self.c.render(request, "console/signup.html", context, 400)
        self.c.flash(request, "signed_up", "ok")
        return self.c.redirect("/console/login")

    async def login_page(self, request: Request) -> Response:
        return self.c.render(request, "console/login.html", {"area": "console", "values": {}})

    async def login(self, request: Request, form: FormData) -> Response:
        email = _field(form, "email").lower()
        password = _secret(form, "password")
        context: dict[str, Any] = {"area": "console", "values": {"email": email}}
        account = login_limits.account_key(TENANT, email)
        if (wait := await self.reserve_check(request, account)) is not None:
            return self.c.render(request, "console/login.html", context | _rate_error(wait), 429)
        user = await self.platform.db.read(lambda c: users.tenant_login(c, email))
        verdict = await auth.verify_password(password, user.password_hash if user else None)
        if user is None or not verdict.ok:
            context |= {"error": "err_login"}
            return self.c.render(request, "console/login.html", context, 400)
        await self.check_passed(request, account)
        if user.status != "active":  # told only to whoever knows the password
            context["error"] = "err_suspended"
            return self.c.render(request, "console/login.html", context, 403)
        values = {"tid": user.tenant_id, "email": email}
        if not await self.start_session(request, TENANT, user, verdict, values):
            context |= {"error": "err_login"}
            return self.c.render(request, "console/login.html", context, 400)
        return self.c.redirect("/console/")

    async def logout(self, request: Request, form: FormData) -> Response:
        area = self.c.area(request)
        token = request.session.get("sid")
        if isinstance(token, str):  # ended for every copy of the cookie, not just this one
            key = sessions.token_key(token)
            await self.platform.db.write(lambda c: sessions.end(c, key))
        request.session.clear()
        self.c.flash(request, "logged_out", "ok")
        return self.c.redirect(f"/{area}/login")

    @tenant_page
    async def password_page(self, request: Request) -> Response:
        context = {"area": "console", "user": request.session}
        return self.c.render(request, "console/password.html", context)

    @tenant_page
    async def change_password(self, request: Request, form: FormData) -> Response:
        uid, email = int(request.session["uid"]), str(request.session["email"])
        current, new, new2 = (_secret(form, k) for k in ("current", "password", "password2"))
        errors: dict[str, str] = {}
        status = 400
        account = login_limits.account_key(TENANT, email)
        if (wait := await self.reserve_check(request, account)) is not None:
            refused = _rate_error(wait)
            errors["current"], status = refused["error"], 429
        else:
            stored = await self.platform.db.read(lambda c: users.password_hash(c, uid))
            if (await auth.verify_password(current, stored)).ok:
                await self.check_passed(request, account)
            else:
                errors["current"] = "err_current_password"
        errors |= _password_errors(new, new2)
        if errors:
            context: dict[str, Any] = {"area": "console", "user": request.session}
            context |= {"errors": errors, "minutes": wait}
            return self.c.render(request, "console/password.html", context, status)
        new_hash, now = await auth.hash_password(new), self.c.clock()
        # Every session of the user ends; this browser gets a new one (and a new CSRF token).
        token = await self.platform.db.write(
            lambda c: sessions.change_password(c, uid, new_hash, now)
        )
        keep = {k: request.session[k] for k in ("realm", "uid", "tid", "email")}
        auth.sign_in(request.session, keep, token)
        self.c.flash(request, "password_changed", "ok")
        return self.c.redirect("/console/")

    # -- operators ----------------------------------------------------------------------------
    async def admin_login_page(self, request: Request) -> Response:
        return self.c.render(request, "admin/login.html", {"area": "admin", "values": {}})

    async def admin_login(self, request: Request, form: FormData) -> Response:
        username = _field(form, "username")
        password = _secret(form, "password")
        context: dict[str, Any] = {"area": "admin", "values": {"username": username}}
        account = login_limits.account_key(OPERATOR, username)
        if (wait := await self.reserve_check(request, account)) is not None:
            return self.c.render(request, "admin/login.html", context | _rate_error(wait), 429)
        user = await self.platform.db.read(lambda c: users.operator_login(c, username))
        verdict = await auth.verify_password(password, user.password_hash if user else None)
        context["error"] = "err_admin_login"
        if user is None or not verdict.ok:
            return self.c.render(request, "admin/login.html", context, 400)
        await self.check_passed(request, account)
        if not await self.start_session(request, OPERATOR, user, verdict, {"username": username}):
            return self.c.render(request, "admin/login.html", context, 400)
        return self.c.redirect("/admin/")


def routes(console: Console) -> tuple[list[BaseRoute], list[BaseRoute]]:
    """(routes under /console, routes under /admin)."""
    pages = SignInPages(console)
    post = console.posted
    tenant: list[BaseRoute] = [
        Route("/signup", pages.signup_page, methods=["GET"]),
        Route("/signup", post(pages.signup), methods=["POST"]),
        Route("/login", pages.login_page, methods=["GET"]),
        Route("/login", post(pages.login), methods=["POST"]),
        Route("/logout", post(pages.logout), methods=["POST"]),
        Route("/password", pages.password_page, methods=["GET"]),
        Route("/password", post(pages.change_password), methods=["POST"]),
    ]
    admin: list[BaseRoute] = [
        Route("/login", pages.admin_login_page, methods=["GET"]),
        Route("/login", post(pages.admin_login), methods=["POST"]),
        Route("/logout", post(pages.logout), methods=["POST"]),
    ]
    return tenant, admin
