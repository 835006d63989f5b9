"""Which of a tenant's messages the records and statistics pages are narrowed to: one of the
tenant's own applications, signatures or templates.

The choices offered are read from the tenant's own rows only, and a value asked for is turned
into a condition only after it was found among them (``console/pages/scope_filter.py``), so a
query string naming another tenant's application or template matches nothing of theirs.
Every query this scope narrows already filters by the tenant's id as well.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, select

from smscloud.store import schema as s

m = s.messages


@dataclass(frozen=True, slots=True)
class MessageScope:
    """An application (its row id), a signature name and a template id; each optional."""

    app_id: int | None = None
    sign: str = ""
    template_id: int | None = None

    def conditions(self) -> list[Any]:
        """SQL conditions on ``messages`` for what is set."""
        cond: list[Any] = []
        if self.app_id is not None:
            cond.append(m.c.app_id == self.app_id)
        if self.sign:
            cond.append(m.c.sign_name == self.sign)
        if self.template_id is not None:
            cond.append(m.c.template_id == self.template_id)
        return cond


EVERYTHING = MessageScope()  # no filter


@dataclass(frozen=True, slots=True)
class AppOption:
    id: int
    sdk_app_id: str
    name: str


@dataclass(frozen=True, slots=True)
class TemplateOption:
    id: int
    name: str


@dataclass(frozen=True, slots=True)
class ScopeChoices:
    """What a tenant may narrow its records and statistics to, oldest first."""

    apps: list[AppOption]
    signs: list[str]
    templates: list[TemplateOption]


def scope_choices(conn: Connection, tenant_id: int) -> ScopeChoices:
    """The tenant's applications, signature names and templates, whatever their status: a
    message sent with a template since deleted is still the tenant's to find."""
    a, g, t = s.applications, s.signs, s.templates
    apps = conn.execute(
        select(a.c.id, a.c.sdk_app_id, a.c.name).where(a.c.tenant_id == tenant_id).order_by(a.c.id)
    )
    signs = conn.execute(select(g.c.name).where(g.c.tenant_id == tenant_id).order_by(g.c.id))
    templates = conn.execute(
        select(t.c.id, t.c.name).where(t.c.tenant_id == tenant_id).order_by(t.c.id)
    )
    names = list(dict.fromkeys(str(n) for n in signs.scalars()))  # a name once, however reused
    return ScopeChoices(
        apps=[AppOption(int(r.id), str(r.sdk_app_id), str(r.name)) for r in apps],
        signs=names,
        templates=[TemplateOption(int(r.id), str(r.name)) for r in templates],
    )
