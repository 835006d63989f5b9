"""Why a callback URL was refused, and how a test push went, in the page's language.

``domain/callback_urls.py`` refuses a URL with ``InvalidParameterValue`` and an English
sentence naming the part at fault, as the API answers it; the pusher
(``delivery/callbacks/client.py``) gives each push that was not accepted an English reason for
its logs. The settings page reads each sentence as one of the patterns below, keeping the value
it names (the host, the address, the status), and words it in the page's language; a sentence
this module does not know is shown as it is.
"""

from __future__ import annotations

import re

from smscloud.console.lint_words import sentence_words
from smscloud.domain.addresses import Block

__all__ = ["BLOCK_WORDS", "PUSH_WORDS", "URL_WORDS", "callback_words"]

# Each kind of address callbacks may not reach (domain/addresses.py, Block).
BLOCK_WORDS: dict[str, tuple[str, str]] = {
    Block.LOOPBACK: ("本机回环", "loopback"),
    Block.PRIVATE: ("内网", "private"),
    Block.LINK_LOCAL: ("链路本地", "link-local"),
    Block.MULTICAST: ("组播", "multicast"),
    Block.UNSPECIFIED: ("未指定", "unspecified"),
    Block.RESERVED: ("保留", "reserved"),
}

# The domain's sentence (a pattern: some carry a value) -> (zh, en), "{0}" being that value.
URL_WORDS: dict[re.Pattern[str], tuple[str, str]] = {
    re.compile(r"callback URL is longer than (\d+) characters"): (
        "回调地址不能超过 {0} 个字符",
        "The callback URL may be at most {0} characters long",
    ),
    re.compile(r"callback URL must not contain spaces, control characters or backslashes"): (
        "回调地址不能含有空格、控制字符或反斜杠",
        "The callback URL may not hold spaces, control characters or backslashes",
    ),
    re.compile(r"callback URL must start with http:// or https://: (.*)"): (
        "回调地址须以 http:// 或 https:// 开头：{0}",
        "The callback URL must start with http:// or https://: {0}",
    ),
    re.compile(r"callback URL must not contain a user name or password \(user@host\)"): (
        "回调地址不能含有用户名或密码（user@host）",
        "The callback URL may not hold a user name or password (user@host)",
    ),
    re.compile(r"callback URL has an invalid host: (.*)"): (
        "回调地址的主机无效：{0}",
        "The callback URL's host is not valid: {0}",
    ),
    re.compile(r"callback URL has an invalid host name: (.*)"): (
        "回调地址的主机名无效：{0}",
        "The callback URL's host name is not valid: {0}",
    ),
    re.compile(r"callback URL has no host: (.*)"): (
        "回调地址缺少主机：{0}",
        "The callback URL has no host: {0}",
    ),
    re.compile(r"callback URL has an invalid port \(1-65535\)"): (
        "回调地址的端口无效（须为 1–65535）",
        "The callback URL's port is not valid (1–65535)",
    ),
    re.compile(r"callback URL has an invalid IPv6 address: (.*)"): (
        "回调地址的 IPv6 地址无效：{0}",
        "The callback URL's IPv6 address is not valid: {0}",
    ),
    re.compile(r"callback URL must not name a network interface \(a zone such as %25eth0\)"): (
        "回调地址不能指定网络接口（如 %25eth0）",
        "The callback URL may not name a network interface (such as %25eth0)",
    ),
    re.compile(
        r"callback URL writes an IPv4 address in an unusual form \((.*)\);"
        r" write it as four decimal numbers such as 203\.0\.113\.7"
    ): (
        "回调地址中的 IPv4 地址写法不常见（{0}），请写成四个十进制数，如 203.0.113.7",
        "The callback URL writes an IPv4 address in an unusual form ({0});"
        " write four decimal numbers, such as 203.0.113.7",
    ),
}

# Why a test push was not accepted (PushOutcome.reason).
PUSH_WORDS: dict[re.Pattern[str], tuple[str, str]] = {
    re.compile(r"HTTP (\d+): redirects are not followed"): (
        "接收方返回 HTTP {0}：不跟随重定向",
        "The receiver answered HTTP {0}: redirects are not followed",
    ),
    re.compile(r"HTTP (\d+)"): (
        "接收方返回 HTTP {0}，而不是 200",
        "The receiver answered HTTP {0}, not 200",
    ),
    re.compile(r'the answer is not JSON \{"result": 0\}'): (
        '应答不是 JSON {{"result": 0}}',
        'The answer is not the JSON {{"result": 0}}',
    ),
    re.compile(r'the answer is not \{"result": 0\}'): (
        '应答不是 {{"result": 0}}',
        'The answer is not {{"result": 0}}',
    ),
    re.compile(r"the answer is longer than (\d+) bytes"): (
        "应答超过 {0} 字节",
        "The answer is longer than {0} bytes",
    ),
    re.compile(r"no answer within (\S+) s"): (
        "{0} 秒内没有应答",
        "No answer within {0} s",
    ),
    # A connection that failed: the system's own words are kept as they are.
    re.compile(r"(\w+): (.*)"): (
        "无法连接接收方：{0}: {1}",
        "Could not reach the receiver: {0}: {1}",
    ),
}

# An address callbacks may not reach, named in the URL or resolved from its host.
_BLOCKED = re.compile(
    r"callback URL points to a (.+) address \((.*)\), which callbacks may not reach;"
    r" use a public address or host name"
)
_RESOLVED = re.compile(
    r"callback host (.+) resolves to a (.+) address \((.*)\): callbacks may not go there"
)


def _blocked(message: str, lang: str) -> str | None:
    named, resolved = _BLOCKED.fullmatch(message), _RESOLVED.fullmatch(message)
    en = lang == "en"
    if named is not None and named.group(1) in BLOCK_WORDS:
        kind, address = BLOCK_WORDS[named.group(1)][int(en)], named.group(2)
        if en:
            return (
                f"The callback URL points to a {kind} address ({address}), which callbacks"
                " may not reach; use a public address or host name"
            )
        return f"回调地址指向{kind}地址（{address}），回调不能访问；请使用公网地址或域名"
    if resolved is not None and resolved.group(2) in BLOCK_WORDS:
        host, address = resolved.group(1), resolved.group(3)
        kind = BLOCK_WORDS[resolved.group(2)][int(en)]
        if en:
            return f"The host {host} resolves to a {kind} address ({address}): not pushed there"
        return f"主机 {host} 解析为{kind}地址（{address}），不会向其推送"
    return None


def callback_words(message: str, lang: str) -> str:
    """A refused callback URL's or a test push's sentence in ``lang`` ("zh" or "en"); the
    sentence if none fits."""
    return (
        _blocked(message, lang)
        or sentence_words(URL_WORDS, message, lang)
        or sentence_words(PUSH_WORDS, message, lang)
        or message
    )
