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
    media_type = JSON

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)

    def init_headers(self, headers: Any = None) -> None:
        super().init_headers(headers)
        # Starlette appends "; charset=utf-8" only to text/* types, but be explicit.
        self.raw_headers = [
            (k, JSON.encode()) if k == b"content-type" else (k, v) for k, v in self.raw_headers
        ]


def success(body: dict[str, Any], request_id: str) -> JsonResponse:
    body["RequestId"] = request_id
    return JsonResponse({"Response": body})


def error(code: str, message: str, request_id: str) -> JsonResponse:
    return JsonResponse(
        {"Response": {"Error": {"Code": code, "Message": message}, "RequestId": request_id}}
    )
