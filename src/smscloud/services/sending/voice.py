"""Voice messages: validate one call, then ACCEPT it in one transaction (QUEUED).

The voice APIs take one number per request (Tencent VMS 2020-09-02 ``SendCodeVoice`` and
``SendTtsVoice``; legacy ``sendcvoice``, ``sendvoiceprompt``, ``sendtvoice``, ``sendfvoice``), so
every problem refuses the whole request with a :class:`RuleViolation` and nothing is stored.
Codes are the VMS ones; the legacy API maps them to its numbers.

Who may call: a verified, active, enterprise account (Tencent voice messaging is for
enterprise users; ``domain.rights``), not in arrears (voice is postpaid, billed monthly), to a
country the operator priced voice for. What is played must be approved: the template, the
uploaded file, or for a prompt, an approved template it matches.

The frequency limits and quiet hours (``domain.voice_rules``) are judged inside the
transaction that inserts the call, against the calls already stored for the (application,
number): on PostgreSQL under the same advisory lock SMS's ACCEPT takes, so two processes never
both accept the call that breaks a limit; on SQLite the single writer already serialises them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, insert, select, text

from smscloud.clock import Clock, system_clock
from smscloud.domain.billing.prices import VOICE
from smscloud.domain.call_states import CallState
from smscloud.domain.errors import RuleViolation
from smscloud.domain.integers import parse_int
from smscloud.domain.phone import PhoneNumber, parse_phone
from smscloud.domain.rights import AccountType, Capability, allows, denial_message
from smscloud.domain.voice_rules import (
    FREQUENCY_LIMIT,
    INVALID_PARAMETERS,
    VoiceKind,
    check_code,
    check_play_times,
    check_voice_frequency,
)
from smscloud.domain.voice_templates import MAX_PROMPT_CHARS, prompt_matches, render_voice
from smscloud.random_ids import request_id as new_request_id
from smscloud.services.metadata.cache import Catalog
from smscloud.services.metadata.records import AppRec
from smscloud.services.sending.accept import lock_key
from smscloud.store import schema as s
from smscloud.store.database import Database

__all__ = [
    "APPROVED",
    "VoiceAccepted",
    "VoiceRequest",
    "VoiceService",
]

APPROVED = 0  # voice_templates.status and voice_files.status
MAX_SESSION_CONTEXT = 512
SOURCES = frozenset({"vms", "v5", "console"})

# VMS error codes (tencentcloud vms v20200902 errorcodes); note "Appid", not "AppId".
APP_NOT_FOUND = "InvalidParameterValue.SdkAppidNotExist"
APP_NOT_OURS = "UnauthorizedOperation.VoiceSdkAppidVerifyFail"
APP_DISABLED = "UnauthorizedOperation.SdkAppidIsDisabled"
ARREARS = "UnauthorizedOperation.ServiceSuspendDueToArrears"
BAD_NUMBER = "InvalidParameterValue.CalledNumberVerifyFail"
NOT_APPROVED = "FailedOperation.TemplateIncorrectOrUnapproved"
UNSUPPORTED = "UnsupportedOperation"

_HISTORY = 86_400.0  # every window of voice_rules (30 s, 10 min, quiet hours, a day) fits
_LOCK_NUMBER = text("SELECT pg_advisory_xact_lock(:key)")


@dataclass(frozen=True, slots=True)
class VoiceRequest:
    """One voice message to one number. Which of ``code``, ``template_id``, ``prompt`` and
    ``fid`` counts is said by ``kind``."""

    tenant_id: int
    sdk_app_id: str
    phone: str  # E.164 with its +
    kind: VoiceKind
    code: str = ""
    template_id: str = ""
    params: Sequence[str] = ()
    prompt: str = ""
    fid: str = ""
    play_times: int | None = None
    session_context: str = ""
    source: str = "vms"
    letters: bool = False  # the legacy sendcvoice reads letters too


@dataclass(frozen=True, slots=True)
class VoiceAccepted:
    """A stored call: its ``call_id`` (VMS ``CallId``, legacy ``callid``) and echo."""

    call_id: str
    request_id: str
    session_context: str
    row_id: int


@dataclass(frozen=True, slots=True)
class _Plan:
    """What ACCEPT inserts, once the request is read."""

    req: VoiceRequest
    app: AppRec
    number: PhoneNumber
    play_times: int
    now: float
    tz: ZoneInfo
    call_id: str
    request_id: str


class VoiceService:
    """The voice send use case; one per process."""

    def __init__(
        self,
        db: Database,
        catalog: Catalog,
        tz: ZoneInfo,
        clock: Clock = system_clock,
        on_accepted: Callable[[], None] | None = None,
    ) -> None:
        self.db, self.catalog, self.tz, self.clock = db, catalog, tz, clock
        self.on_accepted = on_accepted

    async def send(self, req: VoiceRequest, request_id: str | None = None) -> VoiceAccepted:
        """Validate and accept one call; raises RuleViolation and stores nothing otherwise."""
        if req.source not in SOURCES:
            raise ValueError(f"unknown source {req.source!r}")
        # The application first: a foreign or unknown id is answered as such, whoever asks.
        app = await self._owned_app(req.tenant_id, req.sdk_app_id)
        await self._check_tenant(req.tenant_id)
        if len(req.session_context.encode()) >= MAX_SESSION_CONTEXT:
            raise RuleViolation(
                INVALID_PARAMETERS, "SessionContext must be shorter than 512 bytes."
            )
        play_times = check_play_times(req.play_times)
        try:
            number = parse_phone(req.phone)
        except RuleViolation as exc:
            raise RuleViolation(BAD_NUMBER, exc.message) from exc
        if req.kind is VoiceKind.CODE:
            check_code(req.code, letters=req.letters)
        elif req.kind is VoiceKind.PROMPT and not 0 < len(req.prompt) <= MAX_PROMPT_CHARS:
            raise RuleViolation(
                INVALID_PARAMETERS, f"The prompt must be 1 to {MAX_PROMPT_CHARS} characters."
            )
        plan = _Plan(
            req,
            app,
            number,
            play_times,
            self.clock(),
            self.tz,
            new_request_id(),
            request_id or new_request_id(),
        )
        # What is played and its price are read first: a refusal there costs the writer
        # nothing (an exception inside a group commit makes it run every job again alone).
        price, played = await self.db.read(
            lambda conn: (_voice_price(conn, number.iso_code), _what_is_played(conn, req))
        )
        outcome: VoiceAccepted | str = await self.db.write(
            lambda conn: _accept(conn, plan, price, played)
        )
        if isinstance(outcome, str):
            raise RuleViolation(FREQUENCY_LIMIT, outcome)
        if self.on_accepted is not None:
            self.on_accepted()
        return outcome

    async def _check_tenant(self, tenant_id: int) -> None:
        tenant = await self.catalog.tenant(tenant_id)
        if tenant is None or not tenant.active:
            raise RuleViolation(UNSUPPORTED, "The account is suspended.")
        if not tenant.verified:
            raise RuleViolation(
                UNSUPPORTED, "Identity verification of the account is not complete."
            )
        if not allows(AccountType(tenant.account_type), Capability.VOICE):
            raise RuleViolation(UNSUPPORTED, denial_message(Capability.VOICE))
        if await self.catalog.arrears(tenant_id):
            raise RuleViolation(ARREARS, "The service is suspended: a bill is overdue.")

    async def _owned_app(self, tenant_id: int, sdk_app_id: str) -> AppRec:
        app = await self.catalog.app(sdk_app_id)
        if app is None:
            raise RuleViolation(APP_NOT_FOUND, "VoiceSdkAppid does not exist.")
        if app.tenant_id != tenant_id:
            raise RuleViolation(
                APP_NOT_OURS, "VoiceSdkAppid does not belong to the account of this key."
            )
        if not app.active:
            raise RuleViolation(APP_DISABLED, "VoiceSdkAppid is disabled.")
        return app


def _accept(
    conn: Connection, plan: _Plan, price: int, played: tuple[int | None, int | None, str]
) -> VoiceAccepted | str:
    """The ACCEPT transaction: the limits, then the row; a refusal's reason otherwise."""
    req, number = plan.req, plan.number
    template_id, file_id, spoken = played
    if conn.dialect.name == "postgresql":
        conn.execute(_LOCK_NUMBER, {"key": lock_key(plan.app.id, number.e164)})
    vc = s.voice_calls
    history = conn.execute(
        select(vc.c.created_at).where(
            vc.c.phone == number.e164,
            vc.c.app_id == plan.app.id,
            vc.c.created_at > plan.now - _HISTORY,
        )
    ).scalars()
    refusal = check_voice_frequency(
        plan.app.voice_policy, list(history), now=plan.now, kind=req.kind, tz=plan.tz
    )
    if refusal is not None:
        return refusal
    row_id = conn.execute(
        insert(vc).values(
            call_id=plan.call_id,
            request_id=plan.request_id,
            tenant_id=req.tenant_id,
            app_id=plan.app.id,
            phone=number.e164,
            nation_code=number.nation_code,
            iso_code=number.iso_code,
            kind=req.kind.value,
            template_id=template_id,
            file_id=file_id,
            text=spoken,
            play_times=plan.play_times,
            session_context=req.session_context,
            source=req.source,
            state=CallState.QUEUED.value,
            created_at=plan.now,
            attempts=0,
            carrier="",
            sip_status=0,
            failure_code=0,
            hung_up_by="",
            keys="",
            fee_minutes=0,
            unit_price=price,
            recording="",
        )
    ).inserted_primary_key
    assert row_id is not None
    return VoiceAccepted(plan.call_id, plan.request_id, req.session_context, int(row_id[0]))


def _voice_price(conn: Connection, iso_code: str) -> int:
    """The voice price per minute to this country; no price, no calls there."""
    pr = s.prices
    price = conn.execute(
        select(pr.c.unit_price).where(pr.c.product == VOICE, pr.c.iso_code == iso_code)
    ).scalar()
    if price is None:
        raise RuleViolation(
            UNSUPPORTED, f"Voice calls to this country or region ({iso_code}) are not offered."
        )
    return int(price)


def _what_is_played(conn: Connection, req: VoiceRequest) -> tuple[int | None, int | None, str]:
    """(template row, file row, text to speak) for the request; refuses what is unapproved."""
    if req.kind is VoiceKind.CODE:
        return None, None, req.code
    if req.kind is VoiceKind.FILE:
        vf = s.voice_files
        file_id = conn.execute(
            select(vf.c.id).where(
                vf.c.tenant_id == req.tenant_id,
                vf.c.fid == req.fid,
                vf.c.status == APPROVED,
                vf.c.deleted.is_(False),
            )
        ).scalar()
        if file_id is None:
            raise RuleViolation(NOT_APPROVED, "The voice file does not exist or is not approved.")
        return None, int(file_id), ""
    vt = s.voice_templates
    approved = select(vt.c.id, vt.c.content).where(
        vt.c.tenant_id == req.tenant_id, vt.c.status == APPROVED, vt.c.deleted.is_(False)
    )
    if req.kind is VoiceKind.PROMPT:
        for tid, content in conn.execute(approved.order_by(vt.c.id)):
            if prompt_matches(content, req.prompt):
                return int(tid), None, req.prompt
        raise RuleViolation(NOT_APPROVED, "The prompt matches no approved voice template.")
    tid = parse_int(req.template_id)
    row = conn.execute(approved.where(vt.c.id == tid)).first() if tid is not None else None
    if row is None:
        raise RuleViolation(NOT_APPROVED, "The voice template does not exist or is not approved.")
    return int(row.id), None, render_voice(row.content, list(req.params))
