"""SmppCarrier against an SMSC outside the Python stack: the npm ``smpp`` 0.5.1 server.

The peer (tests/peers/npm_smsc/server.js) logs each submit_sm as it saw it on the wire and
scripts receipts by destination suffix: 0000001 UNDELIV, 0000002 EXPIRED, 0000003 refused
with ESME_RINVDSTADR, 0000007 also answered by an MO "收到"; others DELIVRD.
"""

from __future__ import annotations

import asyncio
from typing import Any

from smscloud.carriers.base import DELIVERED, EXPIRED, UNDELIVERED, Submission
from smscloud.carriers.smpp import SmppConfig
from smscloud.protocols.smpp import parse_udh
from tests.integration.carriers.smpp.support import Sink, config, run, started, until

from .conftest import NodeSmsc

PHONE = "+8613800138000"


def node_config(smsc: NodeSmsc, **kw: Any) -> SmppConfig:
    """The carrier's account on the node SMSC, with the short test timers."""
    values: dict[str, Any] = {"system_id": "smscloud", "password": "password"}
    values.update(kw)
    return config(smsc.port, **values)


def test_transceiver_bind_enquire_link_and_unbind(npm_smsc: NodeSmsc) -> None:
    async def main() -> None:
        carrier = await started(node_config(npm_smsc, enquire_interval=0.1), Sink())
        assert carrier.health().bound == 1
        await asyncio.sleep(0.35)  # several enquire_link round trips, answered by the peer
        health = carrier.health()
        assert (health.bound, health.reconnects) == (1, 0)
        await carrier.stop()
        await until(lambda: bool(npm_smsc.events("UNBIND")))

    run(main())
    assert npm_smsc.events("BIND") == [
        {"command": "bind_transceiver", "system_id": "smscloud", "ok": True}
    ]
    assert npm_smsc.events("UNBIND") == [{"system_id": "smscloud"}]


def test_gsm7_and_long_ucs2_submit_fields(npm_smsc: NodeSmsc) -> None:
    long_text = "您好" * 40  # 80 UCS-2 characters: two UDH parts
    sink = Sink()

    async def main() -> list[Any]:
        carrier = await started(node_config(npm_smsc, source_ton=0, source_npi=1), sink)
        gsm = await carrier.submit([Submission(1, PHONE, "Hello {world}", sender_id="106900")])
        long = await carrier.submit([Submission(2, PHONE, long_text, extend_code="12")])
        await until(lambda: len(sink.receipt_list) == 3)
        await carrier.stop()
        return gsm + long

    gsm_result, long_result = run(main())
    first, second, third = npm_smsc.events("SUBMIT")
    assert gsm_result.carrier_msg_id == first["message_id"].lower()
    assert long_result.part_ids == (second["message_id"].lower(), third["message_id"].lower())
    assert long_result.carrier_msg_id == long_result.part_ids[0]
    expected_gsm = {
        "system_id": "smscloud",
        "source_addr_ton": 0,
        "source_addr_npi": 1,
        "source_addr": "106900",
        "dest_addr_ton": 1,
        "dest_addr_npi": 1,
        "destination_addr": "8613800138000",
        "esm_class": 0,
        "data_coding": 0,
        "registered_delivery": 1,
        "udh": None,
        "short_message": b"Hello \x1b(world\x1b)".hex(),  # GSM 03.38 escapes, unpacked
    }
    assert {k: v for k, v in first.items() if k != "message_id"} == expected_gsm
    body = b""
    refs = set()
    for number, part in enumerate((second, third), 1):
        assert (part["source_addr"], part["destination_addr"]) == ("106912", "8613800138000")
        assert (part["esm_class"], part["data_coding"]) == (0x40, 8)
        raw = bytes.fromhex(part["short_message"])
        (iei, (ref, total, seq)), *_ = parse_udh(raw)[0]
        assert (iei, total, seq) == (0, 2, number)
        assert part["udh"] == bytes((5, 0, 3, ref, 2, number)).hex()
        refs.add(ref)
        body += raw[6:]
    assert len(refs) == 1
    assert body == long_text.encode("utf-16-be")
    receipts = {r.carrier_msg_id: r.state for r in sink.receipt_list}
    assert receipts == dict.fromkeys([gsm_result.carrier_msg_id, *long_result.part_ids], DELIVERED)


def test_receipt_states(npm_smsc: NodeSmsc) -> None:
    sink = Sink()
    phones = [PHONE, "+8613900000001", "+8613900000002"]

    async def main() -> list[str | None]:
        carrier = await started(node_config(npm_smsc), sink)
        results = await carrier.submit(
            [Submission(i, p, "code 1234") for i, p in enumerate(phones)]
        )
        await until(lambda: len(sink.receipt_list) == 3)
        await carrier.stop()
        return [r.carrier_msg_id for r in results]

    ids = run(main())
    assert all(ids) and len(set(ids)) == 3
    got = {r.carrier_msg_id: (r.state, r.code) for r in sink.receipt_list}
    assert got == {
        ids[0]: (DELIVERED, "DELIVRD"),
        ids[1]: (UNDELIVERED, "UNDELIV"),
        ids[2]: (EXPIRED, "EXPIRED"),
    }


def test_invalid_destination_is_permanent(npm_smsc: NodeSmsc) -> None:
    sink = Sink()

    async def main() -> list[tuple[str | None, str, bool]]:
        carrier = await started(node_config(npm_smsc), sink)
        batch = [Submission(1, "+8613900000003", "x"), Submission(2, PHONE, "y")]
        results = await carrier.submit(batch)
        await until(lambda: len(sink.receipt_list) == 1)
        await asyncio.sleep(0.1)  # a receipt for the refused one would be here by now
        assert carrier.health().errors == {"permanent": 1}
        await carrier.stop()
        return [(r.carrier_msg_id, r.error, r.permanent) for r in results]

    refused, taken = run(main())
    assert refused == (None, "ESME_RINVDSTADR", True)
    assert taken[0] and not taken[1]
    assert [r.carrier_msg_id for r in sink.receipt_list] == [taken[0]]
    assert [e["destination_addr"] for e in npm_smsc.events("SUBMIT")] == [
        "8613900000003",
        "8613800138000",
    ]


def test_no_receipt_unless_registered(npm_smsc: NodeSmsc) -> None:
    sink = Sink()

    async def main() -> None:
        carrier = await started(node_config(npm_smsc, registered_delivery=0), sink)
        [result] = await carrier.submit([Submission(1, PHONE, "no receipt")])
        assert result.carrier_msg_id
        await asyncio.sleep(0.2)
        await carrier.stop()

    run(main())
    assert sink.receipt_list == [] and npm_smsc.events("DELIVER") == []
    assert npm_smsc.events("SUBMIT")[0]["registered_delivery"] == 0


def test_mo_reply_in_ucs2(npm_smsc: NodeSmsc) -> None:
    sink = Sink()

    async def main() -> None:
        carrier = await started(node_config(npm_smsc), sink)
        sub = Submission(1, "+8613900000007", "reply to me", sender_id="106900", extend_code="88")
        [result] = await carrier.submit([sub])
        assert result.carrier_msg_id
        await until(lambda: len(sink.reply_list) == 1 and len(sink.receipt_list) == 1)
        await carrier.stop()

    run(main())
    [reply] = sink.reply_list
    assert (reply.phone, reply.text, reply.destination) == ("+8613900000007", "收到", "10690088")
    assert sink.receipt_list[0].state == DELIVERED


def test_bad_password_never_binds(npm_smsc: NodeSmsc) -> None:
    async def main() -> tuple[str | None, str, bool]:
        cfg = node_config(npm_smsc, password="wrong", bind_wait=0.2)
        carrier = await started(cfg, Sink())
        await until(lambda: len(npm_smsc.events("BIND")) >= 3)  # it keeps retrying
        assert carrier.health().bound == 0
        [result] = await carrier.submit([Submission(1, PHONE, "x")])
        await carrier.stop()
        return result.carrier_msg_id, result.error, result.permanent

    assert run(main()) == (None, "unbound", False)
    binds = npm_smsc.events("BIND")
    assert all(not b["ok"] and b["system_id"] == "smscloud" for b in binds)
    assert npm_smsc.events("SUBMIT") == []
