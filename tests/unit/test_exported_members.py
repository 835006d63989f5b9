"""Each package says what it holds, and a package that re-exports names exports all of them.

After httpx's ``tests/test_exported_members.py``: a package's ``__all__`` is exactly its
public names, sorted as ruff sorts them, so a name added to or dropped from a package's
surface is a visible change.
"""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType

import pytest

import smscloud


def packages() -> list[str]:
    found = ["smscloud"]
    for info in pkgutil.walk_packages(smscloud.__path__, "smscloud."):
        if info.ispkg and ".migrations" not in info.name:
            found.append(info.name)
    return sorted(found)


PACKAGES = packages()


def test_the_walk_finds_the_layers() -> None:
    for layer in ("domain", "protocols", "store", "services", "delivery", "api", "console"):
        assert f"smscloud.{layer}" in PACKAGES


@pytest.mark.parametrize("name", PACKAGES)
def test_every_package_says_what_it_holds(name: str) -> None:
    doc = importlib.import_module(name).__doc__
    assert doc and len(doc.split()) >= 5, (
        f"{name}/__init__.py needs a docstring saying what it holds"
    )


def isort_style(name: str) -> tuple[int, str]:
    """The order ruff keeps ``__all__`` in: CONSTANTS, then Classes, then functions."""
    return (0 if name.isupper() else 1 if name[0].isupper() else 2, name)


def public_members(package: ModuleType) -> list[str]:
    return sorted(
        (
            member
            for member, value in vars(package).items()
            if not member.startswith("_")
            and not isinstance(value, ModuleType)
            and member != "annotations"  # ``from __future__ import annotations``
        ),
        key=isort_style,
    )


EXPORTING = [n for n in PACKAGES if hasattr(importlib.import_module(n), "__all__")]


def test_the_seams_export_their_names() -> None:
    for seam in ("smscloud.protocols.smpp", "smscloud.carriers.smpp", "smscloud.services.registry"):
        assert seam in EXPORTING


@pytest.mark.parametrize("name", EXPORTING)
def test_all_public_names_are_exported_sorted(name: str) -> None:
    package = importlib.import_module(name)
    assert sorted(package.__all__, key=isort_style) == package.__all__, "keep __all__ sorted"
    assert package.__all__ == public_members(package)
