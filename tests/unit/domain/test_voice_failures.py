"""Tencent's voice failure codes and the SIP statuses mapped to them."""

from __future__ import annotations

from smscloud.domain.voice_failures import FAILURES, SIP_FAILURES, failure_for_sip


def test_the_table_holds_tencents_codes_with_their_reasons() -> None:
    assert FAILURES[8].reason == "空号"
    assert FAILURES[10].reason == "用户正忙"
    assert FAILURES[5].reason == "无人接听"
    assert all(code == f.code for code, f in FAILURES.items())
    assert 14 not in FAILURES and 21 not in FAILURES  # Tencent lists none


def test_sip_statuses_map_to_the_failure_a_person_would_name() -> None:
    assert failure_for_sip(486).code == 10  # Busy Here: user busy
    assert failure_for_sip(404).code == 8  # Not Found: number does not exist
    assert failure_for_sip(487).code == 5  # cancelled after ringing out: no answer
    assert failure_for_sip(408).code == 5
    assert failure_for_sip(0).code == 6  # no response at all: unreachable
    assert failure_for_sip(503).code == 9
    assert failure_for_sip(599).code == 11  # anything unlisted: other


def test_every_mapped_failure_is_one_of_tencents() -> None:
    assert all(FAILURES[f.code] is f for f in SIP_FAILURES.values())
