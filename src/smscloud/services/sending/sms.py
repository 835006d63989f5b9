"""SendSms and SendMultiGlobalSms: validate everything, then ACCEPT in one group commit.

Request-level problems (bad application, unapproved signature or template, too many numbers,
mixed regions) raise :class:`RuleViolation` and nothing is stored. Problems with one number
(bad number, parameters that do not fit, frequency limits, an empty package) become that
number's ``Code`` in ``SendStatusSet`` and the others are sent, as Tencent does (Tencent SMS
API 3.0, SendSms).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from smscloud.clock import Clock, system_clock
from smscloud.domain.errors import RuleViolation
from smscloud.domain.integers import parse_int
from smscloud.domain.phone import mainland_mobile, parse_phone
from smscloud.domain.rights import (
    AccountType,
    Capability,
    allows,
    default_max_param_length,
    denial_code,
)
from smscloud.domain.segments import billed_parts, check_length
from smscloud.domain.templates import SmsType, compose, render
from smscloud.random_ids import request_id as new_request_id
from smscloud.services.metadata.cache import Catalog
from smscloud.services.metadata.records import AppRec, TemplateRec, TenantRec
from smscloud.services.sending.accept import ACCEPT, OK, AcceptRequest, Candidate
from smscloud.store.database import Database

MAX_NUMBERS = 200
MAX_SESSION_CONTEXT = 512
EXTEND_CODE = re.compile(r"[0-9]{1,12}")  # ASCII digits: "²".isdigit() is true too
MAX_SENDER_ID = 32  # what the store keeps of a Sender ID (SendSms gives no limit)
# Marketing only 08:00–22:00 local time (Tencent SMS docs: body template review standards).
MARKETING_HOURS = (8, 22)

ARREARS = "UnauthorizedOperation.ServiceSuspendDueToArrears"


@dataclass(frozen=True, slots=True)
class SendRequest:
    tenant_id: int
    sdk_app_id: str
    phones: Sequence[str]
    template_id: str
    sign_name: str = ""
    params: Sequence[str] = ()
    session_context: str = ""
    extend_code: str = ""
    sender_id: str = ""


def usable_tenant(tenant: TenantRec | None) -> TenantRec:
    """The tenant, if it may use SMS at all: active and identity-verified."""
    if tenant is None or not tenant.active:
        raise RuleViolation(
            "UnauthorizedOperation.RequestPermissionDeny", "The account is suspended."
        )
    if not tenant.verified:
        raise RuleViolation(
            "UnauthorizedOperation.RequestPermissionDeny",
            "Identity verification of the account is not complete.",
        )
    if not tenant.sms_active:
        raise RuleViolation(
            "UnauthorizedOperation.RequestPermissionDeny",
            "SMS is not activated for the account: activate it in the console.",
        )
    return tenant


def in_marketing_hours(now: float, tz: ZoneInfo) -> bool:
    """Whether marketing SMS may be sent at ``now`` (see ``MARKETING_HOURS``)."""
    return MARKETING_HOURS[0] <= datetime.fromtimestamp(now, tz).hour < MARKETING_HOURS[1]


def param_length_limit(tenant: TenantRec, app: AppRec) -> int | None:
    """The longest template parameter this application may send."""
    if app.max_param_length is not None:
        return app.max_param_length
    return default_max_param_length(AccountType(tenant.account_type))


def content_key(text: str) -> str:
    """A short stable hash of the final text, for "same content" limits."""
    return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


class SendService:
    """The send use case; one per process."""

    def __init__(
        self,
        db: Database,
        catalog: Catalog,
        tz: ZoneInfo,
        clock: Clock = system_clock,
        on_accepted: Callable[[], None] | None = None,
        free_units: int = 0,
    ) -> None:
        self.db = db
        self.free_units = free_units
        self.catalog = catalog
        self.tz = tz
        self.clock = clock
        self.on_accepted = on_accepted

    async def owned_app(self, tenant_id: int, sdk_app_id: str) -> AppRec:
        """The tenant's application, or the Tencent error for a foreign or unknown id."""
        app = await self.catalog.app(sdk_app_id)
        if app is None:
            raise RuleViolation(
                "InvalidParameterValue.SdkAppIdNotExist", "SdkAppId does not exist."
            )
        if app.tenant_id != tenant_id:
            raise RuleViolation(
                "UnauthorizedOperation.SmsSdkAppIdVerifyFail",
                "SmsSdkAppId does not belong to the account of this key.",
            )
        if not app.active:
            raise RuleViolation("UnauthorizedOperation.SdkAppIdIsDisabled", "SdkAppId is disabled.")
        return app

    async def usable_tenant(self, tenant_id: int) -> TenantRec:
        """The tenant, if it may send now (active, verified, no overdue bill)."""
        tenant = usable_tenant(await self.catalog.tenant(tenant_id))
        if await self.catalog.arrears(tenant_id):
            raise RuleViolation(ARREARS, "The service is suspended: a bill is overdue.")
        return tenant

    async def approved_template(self, tenant_id: int, template_id: str) -> TemplateRec:
        """The tenant's approved template of this id, or the Tencent error."""
        tid = parse_int(template_id)  # any other text names no template
        tpl = await self.catalog.template(tid) if tid is not None else None
        if tpl is None or tpl.tenant_id != tenant_id or not tpl.approved:
            raise RuleViolation(
                "FailedOperation.TemplateIncorrectOrUnapproved",
                "template is not approved or request content does not match the approved "
                "template content",
            )
        return tpl

    async def send(
        self, req: SendRequest, request_id: str | None = None
    ) -> tuple[str, list[Candidate]]:
        """Validate and accept; returns the request id and one outcome per number."""
        tenant = await self.usable_tenant(req.tenant_id)
        app = await self.owned_app(req.tenant_id, req.sdk_app_id)
        if not req.phones:
            raise RuleViolation("MissingParameter.EmptyPhoneNumberSet", "PhoneNumberSet is empty.")
        if len(req.phones) > MAX_NUMBERS:
            raise RuleViolation(
                "LimitExceeded.PhoneNumberCountLimit",
                f"At most {MAX_NUMBERS} phone numbers may be sent in one request.",
            )
        if len(req.session_context.encode()) >= MAX_SESSION_CONTEXT:
            raise RuleViolation(
                "InvalidParameterValue", "SessionContext must be shorter than 512 bytes."
            )
        if req.extend_code and not EXTEND_CODE.fullmatch(req.extend_code):
            raise RuleViolation("InvalidParameterValue", "ExtendCode must be up to 12 digits.")
        if len(req.sender_id) > MAX_SENDER_ID:
            raise RuleViolation(
                "InvalidParameterValue", f"SenderId must be at most {MAX_SENDER_ID} characters."
            )

        candidates: list[Candidate] = []
        regions: set[bool] = set()
        for raw in req.phones:
            e164 = mainland_mobile(raw)
            if e164 is not None:
                regions.add(True)
                candidates.append(Candidate(raw, e164, "86", "CN", "", "", 0))
                continue
            try:
                ph = parse_phone(raw)
            except RuleViolation as exc:
                candidates.append(Candidate(raw, raw, "", "", "", "", 0, exc.code, exc.message))
                continue
            regions.add(ph.mainland)
            candidates.append(Candidate(raw, ph.e164, ph.nation_code, ph.iso_code, "", "", 0))
        if len(regions) > 1:
            raise RuleViolation(
                "UnsupportedOperation.ContainDomesticAndInternationalPhoneNumber",
                "Mainland China and international numbers cannot be mixed in one request.",
            )
        tpl = await self.approved_template(req.tenant_id, req.template_id)
        # The numbers say which region a send is for; when none of them could be read, the
        # template does, so a malformed number is answered as one (IncorrectPhoneNumber) and
        # not by the rules of a region it was never meant for.
        international = regions == {False} or (not regions and tpl.international == 1)
        sms_type, sign_name = await self.check_rights(
            tenant, tpl, international, req.sign_name, has_numbers=bool(regions)
        )

        now = self.clock()
        per_number_code, per_number_message = OK, ""
        if sms_type is SmsType.MARKETING and not in_marketing_hours(now, self.tz):
            per_number_code = "FailedOperation.MarketingSendTimeConstraint"
            per_number_message = "marketing SMS may only be sent between 08:00 and 22:00"
        max_len = param_length_limit(tenant, app)
        text = ""
        parts = 0
        try:
            body = render(
                tpl.content, list(req.params), sms_type=sms_type, max_param_length=max_len
            )
            text = compose(sign_name or None, body, international=international)
            check_length(text, mainland=not international)
            parts = billed_parts(text, mainland=not international)
        except RuleViolation as exc:
            per_number_code, per_number_message = exc.code, exc.message
        key = content_key(text)
        for c in candidates:
            if c.code != OK:
                continue
            c.content, c.content_key, c.parts = text, key, parts
            if per_number_code != OK:
                c.code, c.message = per_number_code, per_number_message

        request_id = request_id or new_request_id()
        accept = AcceptRequest(
            request_id=request_id,
            tenant_id=req.tenant_id,
            app_id=app.id,
            policy=app.policy,
            allowlist=app.allowlist,
            template_id=tpl.id,
            sms_type=int(sms_type),
            sign_name=sign_name,
            international=international,
            session_context=req.session_context,
            extend_code=req.extend_code,
            sender_id=req.sender_id,
            now=now,
            tz=self.tz,
            candidates=candidates,
            daily_limits=app.daily_limits,
            free_units=self.free_units,
        )
        result: list[Candidate] = await self.db.write_batched(ACCEPT, accept)
        if self.on_accepted is not None and any(c.code == OK for c in result):
            self.on_accepted()
        return request_id, result

    async def check_rights(
        self,
        tenant: TenantRec,
        tpl: TemplateRec,
        international: bool,
        sign_name: str,
        *,
        has_numbers: bool = True,
    ) -> tuple[SmsType, str]:
        """Whether this tenant may send this template with this signature to this region."""
        if international and tpl.international == 0:
            raise RuleViolation(
                "UnsupportedOperation.ChineseMainlandTemplateToGlobalPhone",
                "A Mainland China template cannot be sent to an international number.",
            )
        if not international and has_numbers and tpl.international == 1:
            raise RuleViolation(
                "UnsupportedOperation.GlobalTemplateToChineseMainlandPhone",
                "An international template cannot be sent to a Mainland China number.",
            )
        account = AccountType(tenant.account_type)
        sms_type = SmsType(tpl.sms_type)
        if sms_type is SmsType.MARKETING and not allows(account, Capability.MARKETING_SMS):
            raise RuleViolation(
                denial_code(Capability.MARKETING_SMS),
                "Individual accounts may not send marketing SMS.",
            )
        if international and not allows(account, Capability.INTERNATIONAL_SMS):
            raise RuleViolation(
                denial_code(Capability.INTERNATIONAL_SMS),
                "Individual accounts may not send international SMS.",
            )
        if not international or sign_name:
            sign = (
                await self.catalog.sign(tenant.id, sign_name, 1 if international else 0)
                if sign_name
                else None
            )
            if sign is None or not sign.approved:
                raise RuleViolation(
                    "FailedOperation.SignatureIncorrectOrUnapproved",
                    "signature is not approved or the signature format is incorrect",
                )

        return sms_type, sign_name
