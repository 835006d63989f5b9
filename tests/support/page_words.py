"""The words of a console page a person reads, and those of the other language among them.

Data (names, numbers, template texts, codes) is whatever the page marks as not to be
translated: ``<code>``, ``<pre>``, form values, and any element with ``translate="no"`` (the HTML
attribute that says exactly that), and any element with a ``lang`` of its own (the link that
switches to the other language). Everything else is the console's own words and must be in
the page's language.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

CJK = re.compile(r"[\u3400-\u9fff\uff01-\uff5e\u3001-\u3011]+")
WORD = re.compile(r"[A-Za-z][A-Za-z']{2,}")
# Names that are the same in both languages: products, protocols, formats, Tencent's fields.
_SHARED = """SMS API SDK AppID AppKey SdkAppId SDKAppID SecretId SecretKey URL HTTP HTTPS CSV
    XLSX PDF SMPP SIP PNG JPG JPEG MP3 WAV TTS CSRF GSM UCS RequestId SerialNo TC3 HMAC SHA256 APP
    TPS DELIVRD UNDELIV EXPIRED REJECTD UNKNOWN Tencent Cloud Ok UTC TON NPI"""
SHARED = frozenset(_SHARED.split())
# Addresses are data wherever they appear (an example URL in a placeholder, a user's email),
# and protocol field names (SMPP's system_id) are the same in both languages.
ADDRESS = re.compile(r"\S+://\S*|[\w.+-]+@[\w-]+(?:\.[\w-]+)+|\w+_\w+")
_SKIP = {"code", "pre", "script", "style", "textarea", "template"}
_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
         "track", "wbr"}  # fmt: skip
_SHOWN_ATTRS = ("placeholder", "title", "aria-label", "alt")
_CODE = re.compile(r"[A-Za-z_.]+")


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[bool] = []  # per open element: whether its text is data
        self.texts: list[str] = []

    def _data(self) -> bool:
        return bool(self.stack) and self.stack[-1]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        # An element in a language of its own (lang="en": the language switch) is not the page's.
        data = (
            self._data()
            or tag in _SKIP
            or values.get("translate") == "no"
            or (tag != "html" and "lang" in values)
        )
        if not data:
            # A one-word title is the raw code a word stands for, shown on hover (data).
            shown = [values.get(k) for k in _SHOWN_ATTRS]
            self.texts.extend(
                v for v in shown if v and not (v == values.get("title") and _CODE.fullmatch(v))
            )
            if tag == "input" and values.get("type") in ("submit", "button"):
                self.texts.append(values.get("value") or "")
        if tag not in _VOID:
            self.stack.append(data)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in _VOID:
            self.stack.pop()

    def handle_endtag(self, tag: str) -> None:
        if tag not in _VOID and self.stack:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        if not self._data() and data.strip():
            self.texts.append(data.strip())


def page_texts(html: str) -> list[str]:
    """The texts of a page that are the console's own words (see the module docstring)."""
    reader = _Reader()
    reader.feed(html)
    reader.close()
    return reader.texts


def foreign_words(html: str, lang: str) -> list[str]:
    """The console's own words on a ``lang`` page ("zh" or "en") that are in the other one."""
    found: list[str] = []
    for text in page_texts(html):
        text = ADDRESS.sub(" ", text)
        if lang == "en":
            found.extend(CJK.findall(text))
        else:
            found.extend(w for w in WORD.findall(text) if w not in SHARED)
    return found
