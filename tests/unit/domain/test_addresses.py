"""Which addresses callbacks may reach: the table, IPv4 inside IPv6, the operator's networks."""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address, ip_network

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smscloud.config import load_settings
from smscloud.domain.addresses import (
    BLOCKED_NETWORKS,
    NO_NETWORKS,
    AllowedNetworks,
    Block,
    IPAddress,
    blocked,
    effective_address,
)

L, P, LL, M, U, R = (
    Block.LOOPBACK,
    Block.PRIVATE,
    Block.LINK_LOCAL,
    Block.MULTICAST,
    Block.UNSPECIFIED,
    Block.RESERVED,
)

# Written out by hand from the IANA registries, not derived from the module's table.
CASES: list[tuple[str, Block | None]] = [
    ("0.0.0.0", U),  # Linux connects this to the host itself
    ("0.1.2.3", U),
    ("10.0.0.1", P),
    ("10.255.255.255", P),
    ("100.64.0.1", P),
    ("100.100.100.200", P),  # a cloud metadata service inside the shared space
    ("100.127.255.255", P),
    ("127.0.0.1", L),
    ("127.255.255.254", L),
    ("169.254.169.254", LL),  # cloud metadata
    ("169.254.0.23", LL),
    ("172.16.0.1", P),
    ("172.31.255.255", P),
    ("192.0.0.9", R),  # globally reachable per IANA, but no receiver lives there: blocked
    ("192.0.2.1", R),
    ("192.88.99.1", R),
    ("192.168.1.1", P),
    ("198.18.0.1", R),
    ("198.19.255.255", R),
    ("198.51.100.7", R),
    ("203.0.113.7", R),
    ("224.0.0.1", M),  # ipaddress calls this is_global; it is not a receiver
    ("239.255.255.250", M),
    ("240.0.0.1", R),
    ("255.255.255.255", R),
    ("::", U),
    ("::1", L),
    ("::ffff:127.0.0.1", L),
    ("::ffff:169.254.169.254", LL),
    ("::ffff:10.0.0.1", P),
    ("::ffff:0.0.0.0", U),
    ("::127.0.0.1", R),  # IPv4-compatible, deprecated (RFC 4291 §2.5.5.1)
    ("::ffff:0:7f00:1", R),  # IPv4-translated (RFC 2765)
    ("64:ff9b::7f00:1", L),  # NAT64 of 127.0.0.1
    ("64:ff9b::a9fe:a9fe", LL),  # NAT64 of 169.254.169.254
    ("64:ff9b:1::1", P),
    ("100::1", R),
    ("2001::1", R),  # Teredo
    ("2001:db8::1", R),
    ("2002:7f00:1::1", R),  # 6to4 of 127.0.0.1
    ("2002:808:808::1", R),  # 6to4 of a public address: 6to4 is blocked as a whole
    ("3fff::1", R),
    ("5f00::1", R),
    ("fc00::1", P),
    ("fd00:ec2::254", P),  # a cloud metadata service over IPv6
    ("fe80::1", LL),
    ("fe80::1%eth0", LL),
    ("fec0::1", P),
    ("ff02::1", M),
    ("4000::1", R),
    ("8.8.8.8", None),
    ("1.1.1.1", None),
    ("100.63.255.255", None),
    ("100.128.0.1", None),
    ("172.15.255.255", None),
    ("172.32.0.1", None),
    ("192.0.1.1", None),
    ("203.0.114.1", None),
    ("223.255.255.255", None),
    ("2400:cb00::1", None),
    ("2001:4860:4860::8888", None),
    ("2001:200::1", None),  # just past 2001::/23
    ("::ffff:8.8.8.8", None),
    ("64:ff9b::808:808", None),  # NAT64 of a public address
]


@pytest.mark.parametrize(("text", "why"), CASES)
def test_each_address_is_judged_as_the_registries_say(text: str, why: Block | None) -> None:
    assert blocked(ip_address(text)) is why


def test_the_table_rows_do_not_overlap() -> None:
    nets = [net for net, _, _ in BLOCKED_NETWORKS]
    for i, one in enumerate(nets):
        for other in nets[i + 1 :]:
            assert one.version != other.version or not one.overlaps(other), (one, other)


def test_allowed_networks_are_parsed_strictly() -> None:
    assert AllowedNetworks.parse("") == NO_NETWORKS
    parsed = AllowedNetworks.parse(" 10.0.0.0/8 , fd00::/8 ,")
    assert parsed.networks == (IPv4Network("10.0.0.0/8"), IPv6Network("fd00::/8"))
    assert str(parsed) == "10.0.0.0/8,fd00::/8"
    assert AllowedNetworks.parse("192.0.2.7").networks == (IPv4Network("192.0.2.7/32"),)
    with pytest.raises(ValueError, match=r"'10\.0\.0\.1/8' is not a network in CIDR form"):
        AllowedNetworks.parse("10.0.0.1/8")  # host bits set: refused, not widened
    with pytest.raises(ValueError, match="CIDR"):
        AllowedNetworks.parse("10.0.0.0/8,intranet")


def test_allowed_networks_reopen_exactly_themselves() -> None:
    loopback = AllowedNetworks.parse("127.0.0.0/8")
    assert blocked(IPv4Address("127.0.0.1"), loopback) is None
    assert blocked(ip_address("::ffff:127.0.0.1"), loopback) is None  # the same socket address
    assert blocked(ip_address("::1"), loopback) is L  # IPv6 loopback is another network
    assert blocked(IPv4Address("10.0.0.1"), loopback) is P
    assert blocked(IPv4Address("169.254.169.254"), loopback) is LL
    assert blocked(ip_address("fe80::1%eth0"), AllowedNetworks.parse("fe80::/10")) is LL


def test_the_setting_is_typed_and_checked_when_read() -> None:
    assert load_settings({}).callback_allowed_networks == NO_NETWORKS
    env = {"SMSCLOUD_CALLBACK_ALLOWED_NETWORKS": "10.20.0.0/16,fd00:1::/64"}
    assert str(load_settings(env).callback_allowed_networks) == "10.20.0.0/16,fd00:1::/64"
    with pytest.raises(ValueError, match="SMSCLOUD_CALLBACK_ALLOWED_NETWORKS"):
        load_settings({"SMSCLOUD_CALLBACK_ALLOWED_NETWORKS": "10.0.0.0/33"})


ipv4 = st.ip_addresses(v=4)
ipv6 = st.one_of(st.ip_addresses(v=6), st.ip_addresses(network="2000::/3"))
addresses = st.one_of(ipv4, ipv6)


@st.composite
def networks(draw: st.DrawFn) -> IPv4Network | IPv6Network:
    address = draw(addresses)
    prefix = draw(st.integers(0, address.max_prefixlen))
    return ip_network(f"{address}/{prefix}", strict=False)


@given(ipv4)
def test_ipv4_inside_ipv6_is_judged_as_itself_or_blocked(v4: IPv4Address) -> None:
    mapped = IPv6Address(int(IPv6Address("::ffff:0:0")) | int(v4))
    nat64 = IPv6Address(int(IPv6Address("64:ff9b::")) | int(v4))
    sixtofour = IPv6Address((0x2002 << 112) | (int(v4) << 80) | 1)
    assert blocked(mapped) is blocked(v4)
    assert blocked(nat64) is blocked(v4)
    assert blocked(sixtofour) is R
    assert effective_address(mapped) == effective_address(nat64) == v4


@given(addresses, networks())
def test_an_allowed_network_reopens_itself_and_nothing_else(
    address: IPAddress, network: IPv4Network | IPv6Network
) -> None:
    allowed = AllowedNetworks((network,))
    inside = any(
        a.version == network.version and a in network for a in (address, effective_address(address))
    )
    assert blocked(address, allowed) is (None if inside else blocked(address))


@given(addresses)
def test_nothing_allowed_is_special_by_pythons_own_flags(address: IPAddress) -> None:
    """Whatever the interpreter's tables say (they differ between 3.11 releases), what we
    allow is never something it calls private, loopback, reserved and so on."""
    if blocked(address) is not None:
        return
    real = effective_address(address)
    assert real.is_global
    assert not (
        real.is_private
        or real.is_loopback
        or real.is_link_local
        or real.is_multicast
        or real.is_unspecified
        or real.is_reserved
    )
    assert not (isinstance(real, IPv6Address) and real.is_site_local)


@given(st.sampled_from(BLOCKED_NETWORKS), st.integers(min_value=0))
def test_every_address_of_a_blocked_row_is_blocked(
    row: tuple[IPv4Network | IPv6Network, Block, str], offset: int
) -> None:
    network, why, _ = row
    assert blocked(network[offset % network.num_addresses]) is why
