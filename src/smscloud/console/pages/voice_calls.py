"""Voice messages, the tenant's calls: the records list (refreshing itself), one call's page,
its recording, and the voice counts the statistics page shows beside the SMS ones.

Every read is ``services.voice_records``'s, scoped to the session's tenant. A recording and an
uploaded file are served only to their own tenant, and only from inside their directory: any
other call id or file id is answered 404, exactly like one that never existed.
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import anyio.to_thread
from sqlalchemy import Connection
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import BaseRoute, Route

from smscloud.console.forms import whole
from smscloud.console.guard import tenant_id, tenant_page
from smscloud.console.pages.voice import voice_base
from smscloud.domain.billing.money import format_yuan_exact
from smscloud.domain.call_states import FINAL, CallState
from smscloud.domain.phone import describe_phone
from smscloud.domain.voice_failures import FAILURES
from smscloud.services.accounts import tenants as accounts
from smscloud.services.registry.voice_audio import voice_files_dir
from smscloud.services.voice_records import (
    VOICE_SLOT,
    VoiceCallFilter,
    VoiceCallRow,
    inside,
    own_voice_file,
    recording_path,
    voice_call,
    voice_calls,
    voice_choices,
)

if TYPE_CHECKING:
    from smscloud.console.app import Console

PAGE = 50
DAYS = 7  # the records list covers the last week, on the tenant-and-time index
REFRESH_SECONDS = 5  # calls move in seconds, not minutes: the list follows them closely
STATES = tuple(CallState)
AUDIO_TYPES = {".wav": "audio/wav", ".mp3": "audio/mpeg"}
RECORDING_GRACE = 20.0  # seconds after a hang-up the call's page waits for its recording
_CALL_ID = 40  # the longest call id a path may carry (UUIDs are 36)


def audio_response(path: Path) -> Response | None:
    """The audio file at ``path`` (already checked to be where it belongs), or None when it
    is gone. Served with ranges (an audio element seeks with them), never cached, never
    sniffed, and never rendered as anything but audio."""
    try:
        stat = os.stat(path)
    except OSError:
        return None
    headers = {
        "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'",
        "Content-Disposition": "inline",
    }
    media = AUDIO_TYPES[path.suffix.lower()]
    return FileResponse(path, media_type=media, headers=headers, stat_result=stat)


def failure_words(code: int, lang: str) -> str:
    """A failure code's reason in the page's language ("" for none)."""
    failure = FAILURES.get(code)
    if failure is None:
        return "" if code == 0 else str(code)
    return failure.reason if lang == "zh" else failure.english.capitalize()


def seconds(value: float | None) -> str:
    """A duration as the tables show it: one decimal, "" when unknown."""
    return "" if value is None else f"{value:.1f}"


class VoiceCallPages:
    """The tenant's call records, one call, and the audio served to its owner."""

    def __init__(self, console: Console) -> None:
        self.c = console
        self.platform = console.platform
        self.data_dir = Path(console.platform.settings.data_dir)
        self.tz = console.platform.settings.tz

    def _ts(self, value: float | None) -> str:
        if value is None:
            return ""
        return datetime.fromtimestamp(value, self.tz).strftime("%Y-%m-%d %H:%M:%S")

    def _helpers(self) -> dict[str, Any]:
        return {
            "ts": self._ts,
            "failure_words": failure_words,
            "secs": seconds,
            "yuan": format_yuan_exact,
            "FINAL": FINAL,
            "refresh": REFRESH_SECONDS,
        }

    def _filters(self, request: Request) -> dict[str, Any]:
        q = request.query_params
        state = q.get("state", "").strip()
        phone = q.get("phone", "").strip()[:32]
        return {
            "app": q.get("app", "").strip()[:16],
            "state": state if state in STATES else "",
            "phone": phone,
            "page": min(whole(q.get("page", "0")) or 0, 1000),
        }

    async def _records(self, request: Request, fragment: bool) -> Response:
        tid = tenant_id(request)
        f = self._filters(request)
        now = self.c.clock()
        phone = f["phone"]
        if phone:
            parsed = describe_phone(phone)
            phone = parsed.e164 if parsed is not None else phone
        wanted = VoiceCallFilter(
            begin=now - DAYS * 86400,
            end=now,
            sdk_app_id=f["app"],
            state=f["state"],
            phone=phone,
            offset=f["page"] * PAGE,
            limit=PAGE + 1,
        )

        def load(conn: Connection) -> tuple[Any, list[VoiceCallRow]]:
            return voice_choices(conn, tid), voice_calls(conn, tid, wanted)

        choices, rows = await self.platform.db.read(load)
        query = {"app": f["app"], "state": f["state"], "phone": f["phone"]}
        query |= {"page": str(f["page"])}
        context = voice_base(request, choices.tenant) | self._helpers()
        context |= {
            "f": f,
            "apps": choices.apps,
            "states": STATES,
            "rows": rows[:PAGE],
            "more": len(rows) > PAGE,
            "query": urlencode(query),
            "prev_query": urlencode(query | {"page": str(f["page"] - 1)}),
            "next_query": urlencode(query | {"page": str(f["page"] + 1)}),
        }
        page = "console/voice_records_rows.html" if fragment else "console/voice_records.html"
        return self.c.render(request, page, context)

    @tenant_page
    async def records(self, request: Request) -> Response:
        """The tenant's calls of the last week, filtered by application, state and number."""
        return await self._records(request, fragment=False)

    @tenant_page
    async def records_rows(self, request: Request) -> Response:
        """The list's rows alone, for its refresh (htmx)."""
        return await self._records(request, fragment=True)

    @tenant_page
    async def call(self, request: Request) -> Response:
        """One of the tenant's calls, refreshing itself until it ends."""
        tid = tenant_id(request)
        call_id = str(request.path_params["call_id"])[:_CALL_ID]

        def load(conn: Connection) -> tuple[Any, VoiceCallRow | None]:
            return accounts.tenant_profile(conn, tid), voice_call(conn, tid, call_id)

        tenant, row = await self.platform.db.read(load)
        if row is None:
            return self.c.not_found(request)
        context = voice_base(request, tenant) | self._helpers()
        context |= {"r": row, "live": _may_change(row, self.c.clock())}
        fragment = request.headers.get("hx-request") == "true"
        page = "console/voice_call_body.html" if fragment else "console/voice_call.html"
        return self.c.render(request, page, context)

    @tenant_page
    async def recording(self, request: Request) -> Response:
        """The WAV the built-in phone network kept of one of the tenant's calls."""
        tid = tenant_id(request)
        call_id = str(request.path_params["call_id"])[:_CALL_ID]
        path = await self.platform.db.read(lambda c: recording_path(c, tid, call_id, self.data_dir))
        found = None if path is None else await anyio.to_thread.run_sync(audio_response, path)
        return self.c.not_found(request) if found is None else found

    @tenant_page
    async def file_audio(self, request: Request) -> Response:
        """One of the tenant's own uploaded voice files, to listen to."""
        tid = tenant_id(request)
        item_id = int(request.path_params["item_id"])
        row = await self.platform.db.read(lambda c: own_voice_file(c, tid, item_id))
        found = None
        if row is not None:
            kept = self.platform.voice_registry.file_path(row)
            path = inside(kept, voice_files_dir(self.data_dir, tid), suffixes=(".mp3", ".wav"))
            if path is not None:
                found = await anyio.to_thread.run_sync(audio_response, path)
        return self.c.not_found(request) if found is None else found


def _may_change(row: VoiceCallRow, now: float) -> bool:
    """Whether a call's page should ask for itself again: until it ends, and for a little
    while after an answered call ended, as its recording is written after the hang-up."""
    if row.state not in FINAL:
        return True
    ended = row.ended_at if row.ended_at is not None else row.created_at
    waiting = row.state == CallState.ENDED and row.answered_at is not None
    return waiting and not row.has_recording and now - ended < RECORDING_GRACE


def fold_voice(
    slots: dict[int, tuple[int, int, int, int]], buckets: list[tuple[float, float, str]]
) -> list[dict[str, Any]]:
    """Sum quarter-hour voice counts (calls, answered, failed, billed minutes) into the
    statistics page's labelled buckets."""
    out = []
    for start, stop, label in buckets:
        calls = answered = failed = minutes = 0
        for number in range(int(start // VOICE_SLOT), int(-(-stop // VOICE_SLOT))):
            if number in slots:
                c_, a_, f_, m_ = slots[number]
                calls, answered, failed, minutes = (
                    calls + c_,
                    answered + a_,
                    failed + f_,
                    minutes + m_,
                )
        out.append(
            {
                "label": label,
                "calls": calls,
                "answered": answered,
                "failed": failed,
                "minutes": minutes,
                "rate": f"{100 * answered / calls:.1f}%" if calls else "–",
            }
        )
    return out


def routes(console: Console) -> tuple[list[BaseRoute], list[BaseRoute]]:
    """(routes under /console, routes under /admin)."""
    pages = VoiceCallPages(console)
    tenant: list[BaseRoute] = [
        Route("/voice/records", pages.records, methods=["GET"]),
        Route("/voice/records/rows", pages.records_rows, methods=["GET"]),
        Route("/voice/records/{call_id}", pages.call, methods=["GET"]),
        Route("/voice/records/{call_id}/recording", pages.recording, methods=["GET"]),
        Route("/voice/files/{item_id:id}/audio", pages.file_audio, methods=["GET"]),
    ]
    return tenant, []
