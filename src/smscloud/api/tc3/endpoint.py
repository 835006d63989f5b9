"""The API 3.0 endpoint: one request's method, query, headers and body in, Tencent's envelope out.

It knows nothing of how the request arrived: the ASGI application (``api/app.py``) and the
HTTP fast path (``api/fast_http.py``) both hand it a request read in full and send what it
returns. Every error is answered in the envelope (Tencent Cloud API 3.0: response structure),
never raised.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from smscloud.api.tc3 import sms2019, vms
from smscloud.api.tc3.auth import Call, authenticate
from smscloud.api.tc3.envelope import Envelope, error, internal_error, success
from smscloud.api.tc3.params import Params
from smscloud.api.tc3.sms import ACTIONS
from smscloud.clock import system_clock
from smscloud.domain.errors import RuleViolation
from smscloud.platform import Platform
from smscloud.protocols.auth.tc3 import SignatureError

__all__ = ["SMS_VERSIONS", "Endpoint"]

log = logging.getLogger(__name__)
SMS_VERSIONS = ("2021-01-11", "2019-07-11")


class Endpoint:
    """API 3.0 (SMS 2021-01-11 and 2019-07-11, VMS 2020-09-02) for one platform."""

    def __init__(self, platform: Platform) -> None:
        self.platform = platform

    async def answer(
        self,
        request_id: str,
        method: str,
        raw_query: str,
        headers: Mapping[str, str],
        body: bytes,
    ) -> Envelope:
        """The envelope answering one request; ``headers`` are keyed by lower-case name."""
        try:
            return await self._handle(request_id, method, raw_query, headers, body)
        except (RuleViolation, SignatureError) as exc:
            return error(exc.code, exc.message, request_id)
        except Exception:  # a bug: no request can cause one
            log.exception("request %s failed", request_id)
            return internal_error(request_id)

    async def _handle(
        self,
        request_id: str,
        method: str,
        raw_query: str,
        headers: Mapping[str, str],
        body: bytes,
    ) -> Envelope:
        if method not in ("GET", "POST"):
            raise RuleViolation("UnsupportedProtocol", "Only GET and POST are supported.")
        platform = self.platform
        call = await authenticate(
            platform.catalog,
            method=method,
            raw_query=raw_query,
            headers=headers,
            body=body,
            # The client signed with its own clock: the request's age is measured by the
            # machine's clock, not the platform's.
            now=system_clock(),
            max_skew=platform.settings.timestamp_skew,
        )
        if call.version == vms.VERSION:  # service vms (Tencent VMS API 3.0)
            return await self._voice(call, request_id)
        if call.version not in SMS_VERSIONS:
            raise RuleViolation(
                "NoSuchVersion", f"The API version `{call.version}` does not exist."
            )
        handler = ACTIONS.get(call.action)
        if handler is None:
            raise RuleViolation("InvalidAction", f"The action `{call.action}` does not exist.")
        data = dict(call.params)
        legacy = call.version == "2019-07-11"
        if legacy:
            data = sms2019.request(call.action, data)
        try:
            result = await handler(
                platform, call.key.tenant_id, Params(data, lenient=call.lenient), request_id
            )
        except RuleViolation as exc:
            if legacy:
                raise sms2019.error(call.action, exc) from None
            raise
        if legacy:
            result = sms2019.response(call.action, result, platform.settings.tz)
        return success(result, request_id)

    async def _voice(self, call: Call, request_id: str) -> Envelope:
        handler = vms.ACTIONS.get(call.action)
        if handler is None:
            raise RuleViolation("InvalidAction", f"The action `{call.action}` does not exist.")
        params = Params(call.params, lenient=call.lenient)
        result = await handler(self.platform, call.key.tenant_id, params, request_id)
        return success(result, request_id)
