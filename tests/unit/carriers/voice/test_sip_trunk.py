"""The SIP trunk's pure helpers: URI user parts, the playing schedule, the settings' checks.

Calls themselves are tested against sipp in tests/integration/carriers/voice/test_sip_trunk.py.
"""

from __future__ import annotations

import pytest

from smscloud.carriers.voice.sip_trunk import SipTrunkConfig, playlist, sip_user
from smscloud.protocols.g711 import ULAW_SILENCE
from smscloud.protocols.rtp import PCMA, PCMU, Packetizer


@pytest.mark.parametrize(
    ("value", "plus", "user"),
    [
        ("+8613800138000", False, "8613800138000"),
        ("+8613800138000", True, "+8613800138000"),
        ("13800138000", False, "13800138000"),
        ("13800138000", True, "13800138000"),
        ("smscloud", False, "smscloud"),
        ("trunk.user-1_a", True, "trunk.user-1_a"),
    ],
)
def test_sip_user_of_numbers_and_account_names(value: str, plus: bool, user: str) -> None:
    assert sip_user(value, plus=plus) == user


@pytest.mark.parametrize(
    "value", ["", "+", "138 0013 8000", "a@b", "x\r\nVia: evil", "sip:138", "+1" * 20, "a" * 65]
)
def test_sip_user_refuses_what_a_uri_would_need_escaped(value: str) -> None:
    with pytest.raises(ValueError, match="neither a phone number nor an account name"):
        sip_user(value)


def test_playlist_offsets_follow_the_timestamps_over_the_gap_and_the_wrap() -> None:
    packetizer = Packetizer(PCMU, ssrc=7, sequence=0xFFFE, timestamp=2**32 - 160)
    audio = bytes(range(100, 200)) * 4  # 400 octets: two frames and 80 octets of a third

    schedule = playlist(packetizer, audio, 2, 0.5)

    offsets = [round(offset, 6) for offset, _ in schedule]
    assert offsets == [0.0, 0.02, 0.04, 0.56, 0.58, 0.6]  # 3 frames, 0.5 s, 3 frames
    packets = [packet for _, packet in schedule]
    assert [p.sequence for p in packets] == [0xFFFE, 0xFFFF, 0, 1, 2, 3]
    assert [p.marker for p in packets] == [True, False, False, True, False, False]
    assert packets[2].payload == audio[320:] + bytes([ULAW_SILENCE]) * 80
    assert packets[3].payload == audio[:160]
    assert packetizer.timestamp == (2**32 - 160 + 6 * 160 + 4000) % 2**32


def test_playlist_without_a_gap_is_contiguous_and_without_audio_empty() -> None:
    schedule = playlist(Packetizer(PCMA), b"\x55" * 320, 3, 0.0)
    assert [round(offset, 6) for offset, _ in schedule] == [0.0, 0.02, 0.04, 0.06, 0.08, 0.1]
    assert playlist(Packetizer(PCMA), b"", 2, 0.5) == []


@pytest.mark.parametrize(
    "overrides",
    [
        {"max_calls": 0},
        {"codecs": ()},
        {"codecs": (PCMU, 9)},
        {"no_answer_timeout": 0.0},
        {"play_gap": -0.1},
    ],
)
def test_config_refuses_unusable_settings(overrides: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        SipTrunkConfig(host="127.0.0.1", **overrides)  # type: ignore[arg-type]


def test_config_defaults() -> None:
    config = SipTrunkConfig(host="trunk.example")
    assert (config.port, config.codecs, config.local_host) == (5060, (PCMU, PCMA), "127.0.0.1")
    assert (config.no_answer_timeout, config.play_gap, config.dial_plus) == (45.0, 0.5, False)
