"""Tencent's response envelope: always HTTP 200, ``Content-Type: application/json`` exactly.

The official Python SDK only looks for ``Response.Error`` when the content type is exactly
``application/json`` or ``text/plain`` (tencentcloud-sdk-python-common, ``AbstractClient``:
with ``; charset=utf-8`` an error reads as an empty success), so no charset parameter is ever
added.
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import Response

JSON = "application/json"


class JsonResponse(Response):
    """A JSON answer typed exactly ``application/json``."""

    media_type = JSON

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)

    def init_headers(self, headers: Any = None) -> None:
        super().init_headers(headers)
        # Starlette appends "; charset=utf-8" only to text/* types, but be explicit.
        self.raw_headers = [
            (k, JSON.encode()) if k == b"content-type" else (k, v) for k, v in self.raw_headers
        ]


Envelope = dict[str, Any]


def success(result: dict[str, Any], request_id: str) -> Envelope:
    """An action's result in the envelope."""
    result["RequestId"] = request_id
    return {"Response": result}


def error(code: str, message: str, request_id: str) -> Envelope:
    """An error in the envelope."""
    return {"Response": {"Error": {"Code": code, "Message": message}, "RequestId": request_id}}


def internal_error(request_id: str) -> Envelope:
    """The answer to a request that met a bug (no request can cause one)."""
    return error("InternalError", "An internal error occurred; please try again.", request_id)
