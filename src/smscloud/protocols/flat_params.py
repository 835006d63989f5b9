"""Form/query flattening of API parameters: ``PhoneNumberSet.0``, ``Parent.Child``.

Tencent Cloud API 3.0: request structure (cloud.tencent.com/document/product/382/38766).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["COMMON_V1_PARAMS", "MAX_DEPTH", "flatten", "unflatten"]

# Common parameters that signature v1 puts next to the business ones (Tencent Cloud
# API 3.0: signature v1; the list is what the Tencent Cloud Python SDK sends).
COMMON_V1_PARAMS = frozenset(
    {
        "Action",
        "Version",
        "Region",
        "Timestamp",
        "Nonce",
        "SecretId",
        "SignatureMethod",
        "Signature",
        "Language",
        "RequestClient",
        "Token",
    }
)
# Real parameters nest 3 levels at most; the cap keeps hostile keys from deep recursion.
MAX_DEPTH = 32


def _flatten_into(out: dict[str, str], key: str, value: Any) -> None:
    # Mirrors the SDK's _format_params: None vanishes, lists/tuples get 0-based indices,
    # mappings get dotted names, anything else becomes str(value) (so True -> "True").
    if value is None:
        return
    if isinstance(value, Mapping):
        for k, v in value.items():
            _flatten_into(out, f"{key}.{k}", v)
    elif isinstance(value, list | tuple):
        for i, item in enumerate(value):
            _flatten_into(out, f"{key}.{i}", item)
    elif isinstance(value, bytes | bytearray | memoryview):
        raise TypeError(f"{key}: bytes cannot be form-encoded unambiguously")
    else:
        if key in out:
            # The SDK silently keeps the last one; a collision is always a caller bug.
            raise ValueError(f"two values flatten to the same key {key!r}")
        out[key] = str(value)


def flatten(obj: Mapping[str, Any]) -> dict[str, str]:
    """``{"PhoneNumberSet": ["+86.."], "A": {"B": 1}}`` -> ``{"PhoneNumberSet.0": .., "A.B": "1"}``.

    Order follows the input (the SDK signs GET queries in insertion order). Empty lists and
    dicts and ``None`` produce nothing. Raises ``ValueError`` if two values collide.
    """
    out: dict[str, str] = {}
    for k, v in obj.items():
        _flatten_into(out, str(k), v)
    return out


class _Node(dict[str, "_Node | str"]):
    """Intermediate tree node, distinct from any value type."""


def _convert(value: _Node | str, path: str, depth: int) -> Any:
    if not isinstance(value, _Node):
        return value
    digits = [k.isascii() and k.isdigit() for k in value]
    if any(digits) and not all(digits):
        raise ValueError(f"{path}: mixes list indices and field names")
    if not all(digits):
        return _children(value, path, depth)
    # Canonical indices only: "01" next to "1" would otherwise make two claims on one slot.
    if any(k != "0" and k.startswith("0") for k in value):
        raise ValueError(f"{path}: list index with a leading zero")
    if max(int(k) for k in value) != len(value) - 1:
        raise ValueError(f"{path}: list indices must be 0..n-1 without gaps")
    return [_convert(value[str(i)], f"{path}.{i}", depth + 1) for i in range(len(value))]


def _children(node: _Node, path: str, depth: int) -> dict[str, Any]:
    prefix = f"{path}." if path else ""
    return {k: _convert(v, f"{prefix}{k}", depth + 1) for k, v in node.items()}


def unflatten(flat: Mapping[str, str]) -> dict[str, Any]:
    """Inverse of :func:`flatten`: ``X.0``, ``X.1`` -> list; ``X.0.Y`` -> list of dicts.

    Values stay strings. Raises ``ValueError`` on empty segments, index gaps or leading zeros,
    a name used both as a value and a container (``X`` and ``X.0``), a mix of indices and
    field names under one parent, or nesting deeper than ``MAX_DEPTH``.
    """
    root = _Node()
    for key, value in flat.items():
        parts = key.split(".")
        if "" in parts:
            raise ValueError(f"{key!r}: empty name segment")
        if len(parts) > MAX_DEPTH:
            raise ValueError(f"{key!r}: nested deeper than {MAX_DEPTH}")
        node = root
        for i, part in enumerate(parts[:-1]):
            child = node.setdefault(part, _Node())
            if not isinstance(child, _Node):
                raise ValueError(f"{'.'.join(parts[: i + 1])!r} is both a value and a container")
            node = child
        if parts[-1] in node:
            raise ValueError(f"{key!r} is both a value and a container")
        node[parts[-1]] = value
    # The top level is always a mapping, so a top-level "0" is just a field name.
    return _children(root, "", 0)
