"""The language check of console pages (tests/support/page_words.py) reads what it should."""

from __future__ import annotations

from tests.support.page_words import foreign_words

PAGE = """<html lang="zh-CN"><body><h1>发送记录</h1>{body}
<a lang="en" href="?lang=en">English</a><script>const x = "hidden";</script></body></html>"""


def test_english_words_on_a_chinese_page_are_found_outside_data() -> None:
    body = (
        '<p>状态 Delivered</p><input placeholder="Phone number">'
        '<span title="DELIVERED">已送达</span>'
    )
    assert foreign_words(PAGE.format(body=body), "zh") == ["Delivered", "Phone", "number"]


def test_data_codes_addresses_and_shared_names_are_not_words_of_the_page() -> None:
    body = (
        '<td translate="no">Acme Ltd</td><code>InvalidParameterValue</code>'
        "<p>SMS API 的 AppKey，回调地址 https://example.com/cb，联系 a.b@example.com，system_id</p>"
    )
    assert foreign_words(PAGE.format(body=body), "zh") == []


def test_chinese_on_an_english_page_is_found() -> None:
    page = '<html lang="en"><p>Records 发送</p><td translate="no">测试签名</td></html>'
    assert foreign_words(page, "en") == ["发送"]
