"""The application, signature and template filters of the records and statistics pages.

The query string says what was asked for (``app`` an SdkAppId, ``sign`` a signature name,
``template`` a template id); each is looked up among the tenant's own choices
(``services/message_scope.py``). A value that is not the tenant's gets a message beside its
field, is kept as typed, and the page then shows nothing rather than an unfiltered list.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from smscloud.console import i18n
from smscloud.services.message_scope import EVERYTHING, MessageScope, ScopeChoices

FIELDS = ("app", "sign", "template")
LIMITS = {"app": 32, "sign": 64, "template": 20}

i18n.STRINGS.update(
    {
        "flt_app": ("应用", "Application"),
        "flt_sign": ("签名", "Signature"),
        "flt_template": ("模板", "Template"),
        "flt_all_apps": ("全部应用", "All applications"),
        "flt_all_signs": ("全部签名", "All signatures"),
        "flt_all_templates": ("全部模板", "All templates"),
        "flt_err_app": (
            "本账号没有这个应用，请从列表中选择。",
            "This account has no such application; choose one from the list.",
        ),
        "flt_err_sign": (
            "本账号没有这个签名，请从列表中选择。",
            "This account has no such signature; choose one from the list.",
        ),
        "flt_err_template": (
            "本账号没有这个模板，请从列表中选择。",
            "This account has no such template; choose one from the list.",
        ),
        "flt_nothing": (
            "筛选条件有误，未显示任何记录。",
            "A filter is not valid, so nothing is shown.",
        ),
    }
)


@dataclass(frozen=True, slots=True)
class ScopeFilter:
    """What the filters asked for, what it means, and what was wrong with it."""

    choices: ScopeChoices
    scope: MessageScope = EVERYTHING
    values: dict[str, str] = field(default_factory=dict)  # as asked, for the form and links
    errors: dict[str, str] = field(default_factory=dict)  # field -> string key

    @property
    def valid(self) -> bool:
        return not self.errors


def read_scope(query: Mapping[str, str], choices: ScopeChoices) -> ScopeFilter:
    """The filters in ``query``, each found among the tenant's ``choices`` or refused."""
    values = {name: query.get(name, "").strip()[: LIMITS[name]] for name in FIELDS}
    errors: dict[str, str] = {}
    app_id: int | None = None
    template_id: int | None = None
    if values["app"]:
        app = next((a for a in choices.apps if a.sdk_app_id == values["app"]), None)
        if app is None:
            errors["app"] = "flt_err_app"
        else:
            app_id = app.id
    if values["sign"] and values["sign"] not in choices.signs:
        errors["sign"] = "flt_err_sign"
    if values["template"]:
        found = next((t for t in choices.templates if str(t.id) == values["template"]), None)
        if found is None:
            errors["template"] = "flt_err_template"
        else:
            template_id = found.id
    scope = MessageScope(app_id=app_id, sign=values["sign"], template_id=template_id)
    return ScopeFilter(choices=choices, scope=scope, values=values, errors=errors)
