"""An ESME session and an SMSC session wired back to back in memory."""

from __future__ import annotations

import struct

import pytest

from smscloud.protocols.smpp import (
    BindReceiver,
    BindReceiverResp,
    BindTransceiver,
    BindTransceiverResp,
    BindTransmitter,
    BindTransmitterResp,
    CommandStatus,
    DeliverSm,
    DeliverSmResp,
    EnquireLink,
    EnquireLinkResp,
    GenericNack,
    Outbind,
    Pdu,
    PduError,
    SubmitSm,
    SubmitSmResp,
    Unbind,
    UnbindResp,
    decode,
    encode,
)
from smscloud.protocols.smpp.session import Role, Session, SessionError, State

S = CommandStatus


def deliver(src: Session, dst: Session, pdu: Pdu, now: float = 0.0) -> Pdu:
    """Send ``pdu`` from ``src``; return what ``dst`` reads."""
    dst.receive_data(src.send(pdu, now), now)
    event = dst.next_event()
    assert event is not None and dst.next_event() is None
    return event


def bound_pair(window: int = 10) -> tuple[Session, Session]:
    esme, smsc = Session(Role.ESME, window=window), Session(Role.SMSC)
    bind = deliver(esme, smsc, BindTransceiver(system_id="esme", password="pw"))
    assert isinstance(bind, BindTransceiver) and bind.sequence_number == 1
    resp = BindTransceiverResp(sequence_number=bind.sequence_number, system_id="smsc")
    assert deliver(smsc, esme, resp) == resp
    assert esme.state is smsc.state is State.BOUND_TRX
    return esme, smsc


def test_full_conversation() -> None:
    esme, smsc = bound_pair()
    sub = esme.assign(SubmitSm(destination_addr="8613800138000", short_message=b"hi"))
    got = deliver(esme, smsc, sub)
    assert got == sub and esme.in_window == 1
    deliver(smsc, esme, SubmitSmResp(sequence_number=got.sequence_number, message_id="1A"))
    assert esme.outstanding == {} and smsc.unanswered == {}
    dlr = deliver(smsc, esme, DeliverSm(esm_class=4, short_message=b"id:1A stat:DELIVRD"))
    deliver(esme, smsc, DeliverSmResp(sequence_number=dlr.sequence_number))
    unbind = deliver(esme, smsc, Unbind())
    deliver(smsc, esme, UnbindResp(sequence_number=unbind.sequence_number))
    assert esme.state is smsc.state is State.UNBOUND
    esme.close()
    with pytest.raises(SessionError):
        esme.send(EnquireLink())


def test_sequence_numbers_increase_and_wrap() -> None:
    esme, _ = bound_pair()
    assert [esme.assign(EnquireLink()).sequence_number for _ in range(3)] == [2, 3, 4]
    esme._seq = 0x7FFFFFFF
    assert esme.assign(EnquireLink()).sequence_number == 1


def test_refused_bind_stays_open() -> None:
    esme, smsc = Session(Role.ESME), Session(Role.SMSC)
    bind = deliver(esme, smsc, BindTransmitter(system_id="x"))
    resp = BindTransmitterResp(
        sequence_number=bind.sequence_number, command_status=S.ESME_RBINDFAIL
    )
    deliver(smsc, esme, resp)
    assert esme.state is smsc.state is State.OPEN


def test_outbind_then_bind_receiver() -> None:
    esme, smsc = Session(Role.ESME), Session(Role.SMSC)
    assert isinstance(deliver(smsc, esme, Outbind(system_id="smsc")), Outbind)
    bind = deliver(esme, smsc, BindReceiver(system_id="esme"))
    deliver(smsc, esme, BindReceiverResp(sequence_number=bind.sequence_number))
    assert esme.state is State.BOUND_RX
    with pytest.raises(SessionError):  # a receiver may not submit (§2.4)
        esme.send(SubmitSm())
    deliver(smsc, esme, DeliverSm())


def test_submit_before_bind() -> None:
    esme, smsc = Session(Role.ESME), Session(Role.SMSC)
    with pytest.raises(SessionError):
        esme.send(SubmitSm())
    # A misbehaving peer: the SMSC must refuse with ESME_RINVBNDSTS.
    smsc.receive_data(encode(SubmitSm(sequence_number=5)))
    with pytest.raises(SessionError) as info:
        smsc.next_event()
    assert info.value.status == S.ESME_RINVBNDSTS
    answer = decode(smsc.reject(info.value))
    assert answer == SubmitSmResp(sequence_number=5, command_status=S.ESME_RINVBNDSTS)


def test_bad_pdus_get_the_right_answer() -> None:
    _, smsc = bound_pair()
    smsc.receive_data(struct.pack("!IIII", 16, 0x99, 0, 7))
    with pytest.raises(PduError) as info:
        smsc.next_event()
    assert decode(smsc.reject(info.value)) == GenericNack(
        sequence_number=7, command_status=S.ESME_RINVCMDID
    )
    body = b"\x00\x00\x00" + b"1" * 30 + b"\x00"
    smsc.receive_data(struct.pack("!IIII", 16 + len(body), 4, 0, 8) + body)
    with pytest.raises(PduError) as info:
        smsc.next_event()
    assert decode(smsc.reject(info.value)) == SubmitSmResp(
        sequence_number=8, command_status=S.ESME_RINVSRCADR
    )


def test_window() -> None:
    esme, _ = bound_pair(window=2)
    first = esme.assign(SubmitSm())
    esme.send(first)
    esme.send(SubmitSm())
    with pytest.raises(SessionError, match="window full"):
        esme.send(SubmitSm())
    esme.send(EnquireLink())  # keepalive is outside the window
    esme.receive_data(encode(SubmitSmResp(sequence_number=first.sequence_number)))
    assert esme.next_event() is not None
    esme.send(SubmitSm())


def test_unsolicited_response_and_wrong_response() -> None:
    esme, smsc = bound_pair()
    esme.receive_data(encode(SubmitSmResp(sequence_number=99)))
    with pytest.raises(SessionError) as info:
        esme.next_event()
    assert info.value.status is None
    with pytest.raises(SessionError):
        smsc.send(SubmitSmResp(sequence_number=42))


def test_timers_use_the_callers_clock() -> None:
    esme = Session(Role.ESME, enquire_interval=30, response_timeout=10, now=100.0)
    smsc = Session(Role.SMSC, now=100.0)
    bind = deliver(esme, smsc, BindTransmitter(), now=100.0)
    deliver(smsc, esme, BindTransmitterResp(sequence_number=bind.sequence_number), now=101.0)
    assert esme.next_deadline() == 131.0
    assert not esme.enquire_link_due(130.0)
    assert esme.enquire_link_due(131.0)
    ping = deliver(esme, smsc, EnquireLink(), now=131.0)
    assert not esme.enquire_link_due(135.0)  # one is already pending
    assert esme.next_deadline() == 131.0  # link deadline already passed
    assert esme.expired(140.0) == []
    assert esme.expired(141.0) == [ping]
    late = EnquireLinkResp(sequence_number=ping.sequence_number)
    esme.receive_data(smsc.send(late, 142.0), 142.0)
    with pytest.raises(SessionError):  # its request already timed out
        esme.next_event()
    assert esme.next_deadline() == 172.0


def test_deliver_sm_answered_later_and_out_of_order() -> None:
    """An ESME may hold its deliver_sm_resp until what it received is stored (§2.7: the
    asynchronous mode; a response need not follow its request at once nor in order). Until
    then the session owes it, the SMSC's window stays taken, and other traffic flows."""
    esme, smsc = bound_pair()
    smsc.window = 3
    sent = [
        deliver(smsc, esme, DeliverSm(source_addr=f"861380013800{i}", short_message=b"r"))
        for i in range(3)
    ]
    assert set(esme.unanswered) == {p.sequence_number for p in sent}
    assert smsc.in_window == 3
    with pytest.raises(SessionError, match="window full"):  # the SMSC waits for answers
        smsc.send(DeliverSm(source_addr="8613800138009"))
    # Meanwhile the link lives and submits go both ways.
    ping = deliver(esme, smsc, EnquireLink())
    deliver(smsc, esme, EnquireLinkResp(sequence_number=ping.sequence_number))
    sub = deliver(esme, smsc, SubmitSm(destination_addr="8613800138000"))
    deliver(smsc, esme, SubmitSmResp(sequence_number=sub.sequence_number, message_id="7"))
    assert len(esme.unanswered) == 3 and smsc.in_window == 3
    # Stored: answered last first, each freeing a place in the SMSC's window.
    for n, pdu in enumerate(reversed(sent), start=1):
        resp = DeliverSmResp(sequence_number=pdu.sequence_number)
        assert deliver(esme, smsc, resp) == resp
        assert smsc.in_window == 3 - n
    assert esme.unanswered == {}
    with pytest.raises(SessionError, match="answers no pending request"):  # answered once
        esme.send(DeliverSmResp(sequence_number=sent[0].sequence_number))


def test_an_answer_owed_on_a_closed_session_cannot_be_sent() -> None:
    """The connection went while a report was being stored: its answer is not sent (the
    SMSC keeps the deliver_sm and sends it again on a new session)."""
    esme, smsc = bound_pair()
    pdu = deliver(smsc, esme, DeliverSm(source_addr="8613800138000", short_message=b"r"))
    esme.close()
    with pytest.raises(SessionError, match="closed"):
        esme.send(DeliverSmResp(sequence_number=pdu.sequence_number))


def test_the_window_counts_submits_alone_while_link_checks_come_and_go() -> None:
    """enquire_link and unbind travel outside the window (§2.5 flow control is for messages):
    one outstanding never fills it, and one answered or expired never frees a submit's place."""
    esme, smsc = bound_pair(window=2)
    ping = deliver(esme, smsc, EnquireLink())
    first = deliver(esme, smsc, SubmitSm(destination_addr="8613800138000"))
    assert esme.in_window == 1 and len(esme.outstanding) == 2
    deliver(esme, smsc, SubmitSm(destination_addr="8613800138001"))
    assert esme.in_window == 2
    with pytest.raises(SessionError, match="window full"):
        esme.send(SubmitSm(destination_addr="8613800138002"))
    deliver(smsc, esme, EnquireLinkResp(sequence_number=ping.sequence_number))
    assert esme.in_window == 2  # the answered ping freed nothing
    deliver(smsc, esme, SubmitSmResp(sequence_number=first.sequence_number, message_id="1"))
    assert esme.in_window == 1
    late = esme.send(EnquireLink(), now=0.0)  # never answered: it expires
    assert esme.in_window == 1
    assert [p.name for p in esme.expired(now=esme.response_timeout + 1)] == [
        "submit_sm",
        "enquire_link",
    ]
    assert esme.in_window == 0 and esme.outstanding == {}
    assert decode(late).name == "enquire_link"
