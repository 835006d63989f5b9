from __future__ import annotations

import pytest

from smscloud.domain.opt_out import opt_out_keyword


@pytest.mark.parametrize(
    ("text", "keyword"),
    [
        ("R", "R"),
        ("td", "TD"),
        (" T ", "T"),
        ("n", "N"),
        ("退订", "退订"),
        ("Stop", "STOP"),
        ("STOP!", "STOP"),
        ("退订。", "退订"),
        ("unsubscribe", "UNSUBSCRIBE"),
    ],
)
def test_opt_out_keywords_are_recognised(text: str, keyword: str) -> None:
    assert opt_out_keyword(text) == keyword


@pytest.mark.parametrize("text", ["收到", "Thanks", "RT", "no", "please stop sending", ""])
def test_other_replies_are_not_opt_outs(text: str) -> None:
    assert opt_out_keyword(text) is None
