"""The legacy ``uploadvoicefile``: a recording for ``sendfvoice``, sent as the request body.

Legacy voice API, upload a voice file (qcloudsms_py ``VoiceFileUploader``)::

    POST /v5/tlsvoicesvr/uploadvoicefile?sdkappid=<SDKAppID>&random=<random>&time=<unix s>
    Content-Type: audio/mpeg | audio/wav
    x-content-sha1: <SHA-1 of the body, hex>
    Authorization: sha256hex("appkey=<AppKey>&random=<random>&time=<time>&content-sha1=<sha1>")

    {"result": 0, "errmsg": "OK", "fid": "<sha1>"}

Unlike every other command the body is the audio itself, so the credentials travel in the
query and the headers and this route does its own checks, in the order of the JSON commands
(``routes.handle``): the application (1019, 1020), the time (1021: more than 10 minutes off
the machine's clock), the ``Authorization`` (1003 missing, 1001 wrong), then that the body is
what ``x-content-sha1`` says (1001: the signature covers the declared SHA-1, so a body changed
on its way fails here). The file itself is judged by the voice registry (its bytes, at most
400 KB; ``domain.audio_files``); its refusals carry the voice API's numbers (``voice``:
3004 invalid parameters, 1017 too long, 1006 not allowed).

The ``fid`` is the SHA-1 of the bytes, the same for the same file, and is what ``sendfvoice``
takes. (Tencent's page shows fids spelled ``<sha1>.wav``; the registry accepts either
spelling where a tenant names a file.)
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING

from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Route

from smscloud.api.body_limit import BodyTooLargeError
from smscloud.api.tc3.envelope import JsonResponse
from smscloud.api.v5.codes import legacy_result
from smscloud.api.v5.params import BAD_BODY, Fields, V5Error
from smscloud.api.v5.routes import MAX_SKEW, Body
from smscloud.api.v5.voice import BAD_PARAMETERS, UNKNOWN_ERROR, VOICE_RESULT
from smscloud.clock import system_clock
from smscloud.domain.audio_files import fid_of, media_type_for
from smscloud.domain.errors import RuleViolation
from smscloud.domain.integers import parse_int

if TYPE_CHECKING:
    from smscloud.platform import Platform

__all__ = ["UPLOAD_PATH", "upload_authorization", "upload_voice_file", "voice_file_routes"]

log = logging.getLogger(__name__)
UPLOAD_PATH = "/v5/tlsvoicesvr/uploadvoicefile"
TOO_LONG = 1017  # content too long (legacy v5 API: error codes)
_SHA1 = re.compile(r"[0-9a-fA-F]{40}")


def upload_authorization(appkey: str, random: str, time: int, content_sha1: str) -> str:
    """The ``Authorization`` of an upload: lower-case hex SHA-256 of
    ``appkey=..&random=..&time=..&content-sha1=..`` (no HMAC), as for every v5 ``sig``."""
    text = f"appkey={appkey}&random={random}&time={time}&content-sha1={content_sha1}"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _result(code: str) -> int:
    """The legacy number of a refusal: the voice API's where it has one, else SMS's."""
    return VOICE_RESULT[code] if code in VOICE_RESULT else legacy_result(code)


async def upload_voice_file(
    platform: Platform, query: Mapping[str, str], headers: Mapping[str, str], body: bytes
) -> Body:
    """Authenticate and keep one uploaded recording; always returns the JSON body to send.
    ``headers`` are looked up by lower-case name."""
    try:
        return await _upload(platform, Fields(query), headers, body)
    except RuleViolation as exc:
        return {"result": _result(exc.code), "errmsg": exc.message}
    except V5Error as exc:
        return {"result": exc.result, "errmsg": exc.errmsg}
    except Exception:  # a bug: no request can cause one, so say so and keep the details
        log.exception("uploadvoicefile failed")
        return {"result": UNKNOWN_ERROR, "errmsg": "internal error"}


async def _upload(
    platform: Platform, query: Fields, headers: Mapping[str, str], body: bytes
) -> Body:
    app = await platform.catalog.app(query.text("sdkappid"))
    if app is None:
        raise V5Error(1019, "sdkappid does not exist")
    if not app.active:
        raise V5Error(1020, "sdkappid is disabled")
    stamp = parse_int(query.text("time"))
    # The caller's clock against the machine's, as for the JSON commands.
    if stamp is None or not abs(system_clock() - stamp) <= MAX_SKEW:
        raise V5Error(1021, "request time is more than 10 minutes off")
    authorization = headers.get("authorization", "").strip()
    if not authorization:
        raise V5Error(1003, "the Authorization header is missing")
    declared = headers.get("x-content-sha1", "").strip()
    if _SHA1.fullmatch(declared) is None:
        raise V5Error(BAD_PARAMETERS, "x-content-sha1 must be the SHA-1 of the file, in hex")
    expected = upload_authorization(app.app_key, query.text("random"), stamp, declared)
    if not hmac.compare_digest(
        expected.encode("ascii"), authorization.lower().encode("ascii", "replace")
    ):
        raise V5Error(1001, "Authorization verification failed")
    if not hmac.compare_digest(fid_of(body), declared.lower()):
        raise V5Error(
            1001, "x-content-sha1 is not the SHA-1 of the body: the file changed on its way"
        )
    content_type = headers.get("content-type", "")
    media = media_type_for(content_type)
    if media is None:
        raise V5Error(
            BAD_PARAMETERS,
            f"Content-Type {content_type or '(none)'!s} is not accepted: "
            "send audio/mpeg (MP3) or audio/wav (WAV)",
        )
    record = await platform.voice_registry.upload_file(
        app.tenant_id, body, media, now=platform.clock()
    )
    return {"result": 0, "errmsg": "OK", "fid": record.fid}


def voice_file_routes(platform: Platform) -> list[Route]:
    """The upload route, to mount before ``/v5/tlsvoicesvr/{command}`` (which would take
    the name ``uploadvoicefile`` as a JSON command)."""

    async def upload(request: Request) -> Response:
        try:
            body = await request.body()
        except BodyTooLargeError as exc:
            size = f"{exc.limit // 1024 // 1024} MB"
            return JsonResponse({"result": TOO_LONG, "errmsg": f"request body over {size}"})
        except ClientDisconnect:
            errmsg = "request body did not arrive in full"
            return JsonResponse({"result": BAD_BODY, "errmsg": errmsg})
        headers = {k.lower(): v for k, v in request.headers.items()}
        query = dict(request.query_params)
        return JsonResponse(await upload_voice_file(platform, query, headers, body))

    return [Route(UPLOAD_PATH, upload, methods=["POST"])]
