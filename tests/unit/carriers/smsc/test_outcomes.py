"""What the simulated network sends back: the receipt's deliver_sm (SMPP 3.4 §4.6.1, Appendix B)."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from smscloud.carriers.smsc.outcomes import ESM_RECEIPT, NETWORK_GSM, receipt_pdu
from smscloud.protocols.smpp import DeliverSm, SubmitSm, Tag
from smscloud.protocols.smpp.codec import encode
from smscloud.protocols.smpp.receipt import format_receipt, parse_receipt
from smscloud.protocols.smpp.tlv import encode_tlv

ADDRESS = st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), max_size=20)
OCTET = st.integers(0, 255)
WHEN = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31))


@given(
    source=ADDRESS,
    destination=ADDRESS,
    tons=st.tuples(OCTET, OCTET, OCTET, OCTET),
    text=st.text(max_size=70).map(lambda t: t.encode("utf-16-be")),
    message_id=st.integers(0, 2**64).map(lambda n: format(n, "x")),
    stat=st.sampled_from(["DELIVRD", "UNDELIV", "EXPIRED", "REJECTD"]),
    submitted=WHEN,
    done=WHEN,
)
def test_a_receipt_is_the_pdu_the_checking_constructor_builds(
    source: str,
    destination: str,
    tons: tuple[int, int, int, int],
    text: bytes,
    message_id: str,
    stat: str,
    submitted: datetime,
    done: datetime,
) -> None:
    """The receipt is built without checking again the fields a submit_sm brought: it must
    equal, and encode as, the deliver_sm the constructor checks field by field."""
    submit = SubmitSm(
        source_addr_ton=tons[0],
        source_addr_npi=tons[1],
        source_addr=source,
        dest_addr_ton=tons[2],
        dest_addr_npi=tons[3],
        destination_addr=destination,
        data_coding=8,
        short_message=text,
    )
    submitted, done = submitted.replace(tzinfo=UTC), done.replace(tzinfo=UTC)
    pdu = receipt_pdu(submit, message_id, stat, submitted, done)
    receipt = parse_receipt(pdu.short_message)
    assert receipt is not None and receipt.id == message_id and receipt.stat == stat
    checked = DeliverSm(
        source_addr_ton=tons[2],
        source_addr_npi=tons[3],
        source_addr=destination,
        dest_addr_ton=tons[0],
        dest_addr_npi=tons[1],
        destination_addr=source,
        esm_class=ESM_RECEIPT,
        short_message=format_receipt(receipt).encode("ascii"),
        tlvs=(
            encode_tlv(Tag.RECEIPTED_MESSAGE_ID, message_id),
            pdu.tlvs[1],
            (Tag.NETWORK_ERROR_CODE, bytes((NETWORK_GSM,)) + pdu.tlvs[2][1][1:]),
        ),
    )
    assert pdu == checked
    assert encode(pdu) == encode(checked)
