"""Hypothesis strategies for SIP messages: anything the grammar of ``message.py`` allows."""

from __future__ import annotations

from hypothesis import strategies as st

from smscloud.protocols.sip import SipMessage, SipRequest, SipResponse
from smscloud.protocols.sip.message import COMPACT_NAMES

TOKEN_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.!%*_+`'~"

tokens = st.text(st.sampled_from(TOKEN_CHARS), min_size=1, max_size=12)
header_names = tokens.filter(
    lambda n: n.lower() not in COMPACT_NAMES and n.lower() != "content-length"
)
# Any text on one line with no surrounding SP/HT (which a parser strips, §7.3.1).
header_values = st.text(
    st.characters(codec="utf-8", exclude_characters="\r\n"), max_size=40
).filter(lambda v: v == v.strip(" \t"))
uris = st.text(
    st.characters(codec="utf-8", exclude_characters=" \t\r\n"),
    min_size=1,
    max_size=40,
)
reasons = st.text(st.characters(codec="utf-8", exclude_characters="\r\n"), max_size=30)
header_lists = st.lists(st.tuples(header_names, header_values), max_size=8).map(tuple)
bodies = st.binary(max_size=200)

requests = st.builds(SipRequest, tokens, uris, header_lists, bodies)
responses = st.builds(SipResponse, st.integers(100, 699), reasons, header_lists, bodies)
messages: st.SearchStrategy[SipMessage] = st.one_of(requests, responses)
