"""The HTTP surface: API 3.0 at ``/`` (GET and POST), health and metrics."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any

from starlette.applications import Starlette
from starlette.datastructures import Headers
from starlette.middleware import Middleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from smscloud.api.body_limit import BodyLimit, BodyTooLargeError
from smscloud.api.tc3 import envelope
from smscloud.api.tc3.endpoint import Endpoint
from smscloud.api.tc3.envelope import JsonResponse
from smscloud.api.v5 import routes as v5
from smscloud.api.v5 import voice as v5_voice
from smscloud.api.v5.params import BAD_BODY
from smscloud.api.v5.voice_files import voice_file_routes
from smscloud.console.app import console_body_limit, console_routes
from smscloud.delivery import counters
from smscloud.delivery.claims import pending_counts
from smscloud.delivery.health import load_health
from smscloud.platform import Platform
from smscloud.random_ids import request_id as new_request_id

# Tencent Cloud API 3.0, request structure (cloud.tencent.com/document/product/382/38766):
# a POST body of JSON (TC3) may be 10 MB, of a form (signature v1) 1 MB; a GET carries its
# parameters in the query (32 KB for the whole request) and no body.
JSON_BODY_MAX = 10 * 1024 * 1024
FORM_BODY_MAX = 1024 * 1024
GET_BODY_MAX = 32 * 1024
# The legacy v5 API documents no limit; its largest body is a signature's proof image (5 MB, so
# 6.7 MB in base64), which the API's 10 MB holds.
V5_BODY_MAX = JSON_BODY_MAX
OTHER_BODY_MAX = 64 * 1024  # health, metrics and static files read no body


def body_limit(scope: Scope) -> int:
    """The most a request to this route may carry: each surface's own limit."""
    path = str(scope["path"])
    if path == "/":
        if scope["method"] != "POST":
            return GET_BODY_MAX
        media = Headers(scope=scope).get("content-type", "").split(";")[0].strip().lower()
        return FORM_BODY_MAX if media == "application/x-www-form-urlencoded" else JSON_BODY_MAX
    if path.startswith("/v5/"):
        return V5_BODY_MAX
    if path.split("/")[1] in ("console", "admin"):
        return console_body_limit(path)
    return OTHER_BODY_MAX


def _size(limit: int) -> str:
    return f"{limit // 1024 // 1024} MB" if limit % (1024 * 1024) == 0 else f"{limit // 1024} KB"


async def _too_large(request: Request, exc: Exception) -> Response:
    """Any other route's answer to a body over its limit (the surfaces answer their own)."""
    return PlainTextResponse("Request body too large\n", status_code=413)


Lifespan = Callable[[Starlette], contextlib.AbstractAsyncContextManager[None]]


def carrier_metrics(rows: list[Any], now: float) -> list[str]:
    """Per-carrier gauges from what the delivery workers last reported."""
    lines = []
    for name, help_ in (
        ("bound", "binds bound now"),
        ("window_in_use", "submits awaiting their response"),
        ("submits_per_s", "submits per second over the last seconds"),
        ("reconnects", "reconnects since the worker started"),
    ):
        lines.append(f"# HELP smscloud_carrier_{name} {help_}")
        lines.append(f"# TYPE smscloud_carrier_{name} gauge")
        for r in rows:
            lines.append(
                f'smscloud_carrier_{name}{{carrier="{r.carrier}",worker="{r.worker}"}} '
                f"{getattr(r, name)}"
            )
    lines.append("# TYPE smscloud_carrier_errors gauge")
    for r in rows:
        for kind, count in sorted(json.loads(r.errors).items()):
            lines.append(
                f'smscloud_carrier_errors{{carrier="{r.carrier}",worker="{r.worker}",'
                f'kind="{kind}"}} {count}'
            )
    lines.append("# TYPE smscloud_carrier_report_age_seconds gauge")
    for r in rows:
        lines.append(
            f'smscloud_carrier_report_age_seconds{{carrier="{r.carrier}",worker="{r.worker}"}}'
            f" {round(now - r.updated_at, 1)}"
        )
    return lines


class ApiFirst:
    """ASGI middleware answering ``/`` (API 3.0, every method) with ``endpoint`` itself.

    Nearly every request under load is a signed ``POST /``; Starlette's exception middleware,
    router and request wrapper cost about as much per request as checking its signature. The
    endpoint answers every error itself in Tencent's envelope, and the body limit stays in
    front of it.
    """

    def __init__(self, app: ASGIApp, endpoint: Callable[[Request], Awaitable[Response]]) -> None:
        self.app = app
        self.endpoint = endpoint

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == "/":
            response = await self.endpoint(Request(scope, receive))
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


def create_app(platform: Platform, *, lifespan: Lifespan | None = None) -> Starlette:
    """The ASGI application. By default its lifespan starts and stops the whole platform
    (delivery included); ``serve`` passes its own to run delivery in a worker process."""

    endpoint = Endpoint(platform)

    async def api(request: Request) -> Response:
        request_id = new_request_id()
        method = request.method
        try:
            # An unsupported method is refused before its body is read.
            body = await request.body() if method in ("GET", "POST") else b""
        except BodyTooLargeError as exc:  # Tencent Cloud API 3.0: common error codes
            message = f"The request body exceeds {_size(exc.limit)}."
            return JsonResponse(envelope.error("RequestSizeLimitExceeded", message, request_id))
        except ClientDisconnect:  # no one is left to read the answer
            message = "The request body did not arrive in full."
            code = "FailedOperation.FailResolvePacket"
            return JsonResponse(envelope.error(code, message, request_id))
        scope = request.scope
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        raw_query = scope.get("query_string", b"").decode("latin-1")
        return JsonResponse(await endpoint.answer(request_id, method, raw_query, headers, body))

    async def _legacy(request: Request, commands: Mapping[str, v5.Command]) -> Response:
        try:
            body = await request.body()
        except BodyTooLargeError as exc:
            errmsg = f"request body over {_size(exc.limit)}"
            return JsonResponse({"result": BAD_BODY, "errmsg": errmsg})
        except ClientDisconnect:
            errmsg = "request body did not arrive in full"
            return JsonResponse({"result": BAD_BODY, "errmsg": errmsg})
        query = dict(request.query_params)
        out = await v5.handle(platform, request.path_params["command"], query, body, commands)
        return JsonResponse(out)

    async def legacy_sms(request: Request) -> Response:
        return await _legacy(request, v5.COMMANDS)

    async def legacy_voice(request: Request) -> Response:
        return await _legacy(request, v5_voice.COMMANDS)

    async def healthz(request: Request) -> Response:
        if not platform.ready:
            return PlainTextResponse("starting\n", status_code=503)
        return PlainTextResponse("ok\n")

    async def metrics(request: Request) -> Response:
        st = platform.dispatcher.stats
        pending = await platform.db.read(pending_counts)
        health = await platform.db.read(load_health)
        lines = ["# TYPE smscloud_messages_pending gauge"]
        lines += [f'smscloud_messages_pending{{state="{k}"}} {v}' for k, v in pending.items()]
        lines += [
            "# TYPE smscloud_db_commits_total counter",
            f"smscloud_db_commits_total {platform.db.commits}",
            "# TYPE smscloud_db_jobs_total counter",
            f"smscloud_db_jobs_total {platform.db.jobs}",
        ]
        lines += carrier_metrics(health, platform.clock())
        # Counters of every worker, kept in the database.
        for name, value in (await platform.db.read(counters.load)).items():
            lines.append(f"# HELP smscloud_{name}_total {counters.COUNTERS[name]}")
            lines.append(f"# TYPE smscloud_{name}_total counter")
            lines.append(f"smscloud_{name}_total {value}")
        # Counters of the dispatcher in this process (zero where delivery runs in a worker).
        for name in (
            "claimed",
            "submitted",
            "refused",
            "receipts",
            "unmatched",
            "replies",
            "expired",
            "errors",
        ):
            lines.append(f"# TYPE smscloud_dispatch_{name}_total counter")
            lines.append(f"smscloud_dispatch_{name}_total {getattr(st, name)}")
        return PlainTextResponse("\n".join(lines) + "\n", media_type="text/plain; version=0.0.4")

    @contextlib.asynccontextmanager
    async def whole_platform(app: Starlette) -> AsyncIterator[None]:
        await platform.start()
        try:
            yield
        finally:
            await platform.stop()

    routes = [
        # "/" (API 3.0) is answered by ApiFirst, ahead of the router.
        Route("/v5/tlssmssvr/{command}", legacy_sms, methods=["POST"]),
        # Voice commands (api/v5/voice.py); a route for one name (uploadvoicefile, whose body
        # is audio, not JSON) goes before this one, which takes every other name.
        *voice_file_routes(platform),
        Route("/v5/tlsvoicesvr/{command}", legacy_voice, methods=["POST"]),
        Route("/healthz", healthz),
        Route("/metrics", metrics),
        *console_routes(platform),
    ]
    return Starlette(
        routes=routes,
        middleware=[Middleware(BodyLimit, policy=body_limit), Middleware(ApiFirst, endpoint=api)],
        exception_handlers={BodyTooLargeError: _too_large},
        lifespan=lifespan or whole_platform,
    )
