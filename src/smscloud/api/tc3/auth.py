"""Who is calling, and what they asked: TC3-HMAC-SHA256 or the older v1 signature.

TC3 puts the action in ``X-TC-*`` headers and the parameters in a JSON body (POST) or a
flattened query (GET). v1 puts everything, the signature included, in a form body (POST) or
the query (GET). Either way the result is a :class:`Call` whose parameters look the same, so
the actions never know how they were signed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

import orjson

from smscloud.domain.errors import RuleViolation
from smscloud.domain.integers import parse_int
from smscloud.protocols.auth import tc3
from smscloud.protocols.auth import v1 as v1sign
from smscloud.protocols.flat_params import COMMON_V1_PARAMS, unflatten
from smscloud.services.metadata.cache import Catalog
from smscloud.services.metadata.records import ApiKeyRec

VERSION_SERVICE = {"2021-01-11": "sms", "2019-07-11": "sms", "2020-09-02": "vms"}


@dataclass(frozen=True, slots=True)
class Call:
    action: str
    version: str
    service: str
    region: str
    language: str
    key: ApiKeyRec
    params: Mapping[str, Any]
    lenient: bool  # parameters came as strings (query or form)


def _unflatten(flat: Mapping[str, str]) -> dict[str, Any]:
    try:
        return unflatten(flat)
    except ValueError as exc:
        raise RuleViolation("InvalidParameter", f"Malformed parameter names: {exc}") from None


def _query_pairs(raw: str) -> dict[str, str]:
    # Later duplicates win, as in most servers; the signature covers the raw string anyway.
    return dict(parse_qsl(raw, keep_blank_values=True))


async def _secret(catalog: Catalog, secret_id: str) -> ApiKeyRec:
    key = await catalog.key(secret_id)
    if key is None or not key.active:
        raise RuleViolation(
            "AuthFailure.SecretIdNotFound",
            "The SecretId is not found, please ensure it is correct.",
        )
    return key


async def authenticate(
    catalog: Catalog,
    *,
    method: str,
    raw_query: str,
    headers: Mapping[str, str],
    body: bytes,
    now: float,
    max_skew: int,
) -> Call:
    """Verify the request's signature and return the call it carries."""
    authorization = headers.get("authorization", "")
    if authorization:
        return await _tc3(catalog, method, raw_query, headers, body, now, max_skew, authorization)
    return await _v1(catalog, method, raw_query, headers, body, now, max_skew)


async def _tc3(
    catalog: Catalog,
    method: str,
    raw_query: str,
    headers: Mapping[str, str],
    body: bytes,
    now: float,
    max_skew: int,
    authorization: str,
) -> Call:
    auth = tc3.parse_authorization(authorization)
    action = headers.get("x-tc-action", "").strip()
    version = headers.get("x-tc-version", "").strip()
    raw_ts = headers.get("x-tc-timestamp", "").strip()
    if not action:
        raise RuleViolation("MissingParameter", "The request is missing `X-TC-Action`.")
    if not raw_ts:
        raise RuleViolation("MissingParameter", "The request is missing `X-TC-Timestamp`.")
    timestamp = parse_int(raw_ts)
    if timestamp is None:
        raise RuleViolation("InvalidParameter", "`X-TC-Timestamp` must be integer Unix seconds.")
    key = await _secret(catalog, auth.secret_id)
    tc3.verify(
        auth,
        key.secret_key,
        method=method,
        query=raw_query,
        headers=headers,
        body=body,
        timestamp=timestamp,
        now=now,
        max_skew=max_skew,
    )
    lenient = method == "GET"
    if method == "GET":
        params: Mapping[str, Any] = _unflatten(_query_pairs(raw_query))
    elif not body.strip():
        params = {}
    else:
        try:
            loaded = orjson.loads(body)
        except orjson.JSONDecodeError:
            raise RuleViolation(
                "FailedOperation.JsonParseFail", "The request body is not valid JSON."
            ) from None
        if not isinstance(loaded, dict):
            raise RuleViolation(
                "FailedOperation.JsonParseFail", "The request body must be an object."
            )
        params = loaded
    return Call(
        action=action[:1].upper() + action[1:],
        version=version,
        service=auth.service,
        region=headers.get("x-tc-region", ""),
        language=headers.get("x-tc-language", "zh-CN"),
        key=key,
        params=params,
        lenient=lenient,
    )


async def _v1(
    catalog: Catalog,
    method: str,
    raw_query: str,
    headers: Mapping[str, str],
    body: bytes,
    now: float,
    max_skew: int,
) -> Call:
    if method == "GET":
        flat = _query_pairs(raw_query)
    else:
        try:
            flat = _query_pairs(body.decode("utf-8"))
        except UnicodeDecodeError:
            raise RuleViolation("InvalidParameter", "The form body is not UTF-8.") from None
    if "Signature" not in flat:
        raise RuleViolation(
            "AuthFailure.InvalidAuthorization",
            "The request carries neither an Authorization header nor a Signature parameter.",
        )
    for name in ("Action", "Version", "SecretId"):
        if not flat.get(name):
            raise RuleViolation("MissingParameter", f"The request is missing `{name}`.")
    key = await _secret(catalog, flat["SecretId"])
    v1sign.verify(
        key.secret_key, method, headers.get("host", ""), "/", flat, now=now, max_skew=max_skew
    )
    business = {k: v for k, v in flat.items() if k not in COMMON_V1_PARAMS}
    version = flat["Version"]
    return Call(
        action=flat["Action"],
        version=version,
        service=VERSION_SERVICE.get(version, "sms"),
        region=flat.get("Region", ""),
        language=flat.get("Language", "zh-CN"),
        key=key,
        params=_unflatten(business),
        lenient=True,
    )
