"""Reading submitted forms."""

from __future__ import annotations

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.types import Message

MAX_DRAIN = 64 * 1024 * 1024  # read (and drop) this much of a too-big body, to answer politely


async def limited_form(
    request: Request, max_body: int, *, max_files: int = 1, max_fields: int = 16
) -> FormData | None:
    """The multipart form, or None when the body exceeds ``max_body`` (counted as it
    arrives, so a huge upload is refused without being stored anywhere)."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_body:
            if size > max_body + MAX_DRAIN:
                break
            chunks.clear()
            continue
        chunks.append(chunk)
    if size > max_body:
        return None
    body = b"".join(chunks)

    async def replay() -> Message:
        return {"type": "http.request", "body": body, "more_body": False}

    return await Request(request.scope, replay).form(max_files=max_files, max_fields=max_fields)


def text(form: FormData, name: str) -> str:
    """A text field, trimmed; "" when it is missing or is a file."""
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""
