"""Errors answered to 2019-07-11 clients name that version's fields and codes (Tencent SMS API)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smscloud.api.tc3 import sms2019
from smscloud.domain.errors import RuleViolation

RENAMED = [
    (action, old, new)
    for action in sms2019.RENAME_IN
    if action != "*"
    for old, new in (sms2019.RENAME_IN["*"] | sms2019.RENAME_IN[action]).items()
]


@pytest.mark.parametrize(("action", "old", "new"), RENAMED)
def test_every_renamed_field_is_named_as_the_2019_client_sent_it(
    action: str, old: str, new: str
) -> None:
    out = sms2019.error(action, RuleViolation("MissingParameter", f"missing `{new}`."))
    assert out.message == f"missing `{old}`."
    assert out.code == "MissingParameter"


@given(
    action=st.sampled_from(sorted({a for a, _, _ in RENAMED})),
    words=st.lists(st.sampled_from(["SignPurpose", "SmsSdkAppId", "TemplateId", "SignName", "x"])),
)
def test_no_2021_name_of_the_action_survives(action: str, words: list[str]) -> None:
    renames = sms2019.RENAME_IN["*"] | sms2019.RENAME_IN[action]
    out = sms2019.error(action, RuleViolation("InvalidParameter", " ".join(words))).message
    assert not set(out.split()) & set(renames.values())
    assert len(out.split()) == len(words)


def test_a_2021_code_becomes_its_2019_twin() -> None:
    exc = RuleViolation("InvalidParameterValue.InvalidSignPurpose", "SignPurpose 5 is not 0 or 1")
    out = sms2019.error("AddSmsSign", exc)
    assert (out.code, out.message) == (
        "InvalidParameterValue.InvalidUsedMethod",
        "UsedMethod 5 is not 0 or 1",
    )


def test_names_of_other_actions_and_longer_names_are_left_alone() -> None:
    # SignName is renamed for SendSms only; TemplateIdSet is not TemplateId.
    exc = RuleViolation("InvalidParameter", "SignName and TemplateIdSet")
    assert sms2019.error("AddSmsSign", exc).message == "SignName and TemplateIdSet"
    assert sms2019.error("SendSms", exc).message == "Sign and TemplateIdSet"
