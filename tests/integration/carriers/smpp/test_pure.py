"""The carrier's pure parts: pacing arithmetic, MO reassembly, replies and the parts of
long messages (no sockets)."""

from __future__ import annotations

import logging
import random
from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smscloud.carriers.base import Submission
from smscloud.carriers.smpp.config import SmppConfig
from smscloud.carriers.smpp.inbound import Reassembler, receipt_from, reply_from
from smscloud.carriers.smpp.outbound import build_parts
from smscloud.carriers.smpp.pacing import RateMeter, TokenBucket, backoff
from smscloud.protocols.smpp import Concat, DeliverSm, Tag
from smscloud.protocols.smpp.udh import ESM_UDHI, Part, concat_of


def test_token_bucket_queues_callers_in_order() -> None:
    bucket = TokenBucket(rate=10.0, burst=2)
    waits = [bucket.reserve(100.0) for _ in range(4)]
    assert waits == pytest.approx([0.0, 0.0, 0.1, 0.2])
    assert bucket.reserve(101.0) == 0.0  # refilled after a quiet second
    assert TokenBucket(rate=0.0).reserve(0.0) == 0.0


def test_backoff_grows_is_capped_and_jittered() -> None:
    rng = random.Random(1)
    delays = [backoff(n, 0.5, 4.0, rng) for n in range(8)]
    assert all(0.25 <= d <= 4.0 for d in delays)
    assert delays[0] <= 0.5 and delays[-1] >= 2.0
    assert len(set(delays)) == len(delays)


def test_rate_meter_forgets_old_seconds() -> None:
    meter = RateMeter(span=5)
    meter.add(10.2, 50)
    meter.add(10.7, 50)
    assert meter.rate(11.0) == 20.0
    assert meter.rate(16.0) == 0.0


def _sar(ref: int, total: int, seq: int, text: bytes) -> DeliverSm:
    tlvs = (
        (Tag.SAR_MSG_REF_NUM, ref.to_bytes(2, "big")),
        (Tag.SAR_TOTAL_SEGMENTS, bytes((total,))),
        (Tag.SAR_SEGMENT_SEQNUM, bytes((seq,))),
    )
    return DeliverSm(source_addr="8613", short_message=text, tlvs=tlvs)


def test_sar_mo_reassembly_and_part_timeout(caplog: pytest.LogCaptureFixture) -> None:
    mo = Reassembler(timeout=10.0)
    assert mo.add(_sar(7, 2, 2, b"world"), now=0.0) is None
    assert mo.add(_sar(7, 2, 1, b"hello "), now=1.0) == "hello world"
    assert mo.add(_sar(8, 3, 1, b"lost"), now=2.0) is None
    assert len(mo) == 1
    with caplog.at_level(logging.WARNING):
        assert mo.add(DeliverSm(source_addr="1", short_message=b"ok"), now=20.0) == "ok"
    assert len(mo) == 0 and "1 of 3 parts timed out" in caplog.text


def test_receipt_without_id_or_state_is_none() -> None:
    assert receipt_from(DeliverSm(esm_class=4, short_message=b"garbage"), 0.0) is None
    enroute = DeliverSm(esm_class=4, short_message=b"id:1 stat:ENROUTE")
    assert receipt_from(enroute, 0.0) is None
    deleted = receipt_from(DeliverSm(esm_class=4, short_message=b"id:Z stat:DELETED"), 5.0)
    assert deleted is not None and (deleted.state, deleted.code) == ("UNKNOWN", "DELETED")


def test_a_reply_is_read_by_its_source_ton_and_the_carriers_country() -> None:
    pdu = DeliverSm(
        source_addr_ton=2, source_addr_npi=1, source_addr="07781123456", destination_addr="1069"
    )
    reply = reply_from(pdu, "hi", 5.0, carrier="uk", nation_code="44")
    assert (reply.phone, reply.text, reply.destination, reply.carrier) == (
        "+447781123456",
        "hi",
        "1069",
        "uk",
    )


@given(
    text=st.text(max_size=700),
    message_id=st.integers(min_value=1, max_value=2**40),
    method=st.sampled_from([Concat.UDH8, Concat.SAR]),
)
def test_a_message_builds_the_same_parts_under_its_own_reference(
    text: str, message_id: int, method: Concat
) -> None:
    """Any attempt, in any worker, rebuilds the parts an earlier one sent: a retry can send
    the missing ones alone and the handset joins them to those it has."""
    config = SmppConfig(system_id="x", long_method=method)
    sub = Submission(message_id, "+8613800138000", text)
    parts = build_parts(sub, config, message_id)
    assert build_parts(replace(sub, taken=((1, "a"),), parts=9), config, message_id) == parts
    if len(parts) == 1:
        return
    space = 256 if method is Concat.UDH8 else 65536
    info = [
        concat_of(
            Part(
                short_message=p.short_message,
                data_coding=p.data_coding,
                esm_class=p.esm_class & ESM_UDHI,
                tlvs=p.tlvs,
            )
        )
        for p in parts
    ]
    assert info == [(message_id % space, len(parts), n) for n in range(1, len(parts) + 1)]
