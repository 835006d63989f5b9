"""Which network addresses a tenant's callback may reach.

A callback URL is chosen by a tenant, and the platform's pusher opens the connection from
inside the operator's network. Left alone, a tenant could point it at the cloud's metadata
service (169.254.169.254), at a database on 10.x, or at the platform itself on 127.0.0.1. So
every address a push would connect to is judged here, against one table drawn from IANA's
special-purpose address registries (RFC 6890 and the RFCs cited per row): loopback, private,
link-local, multicast, unspecified and reserved addresses are blocked, and so is every IPv6
address outside global unicast (2000::/3, RFC 4291 §2.4). The operator re-opens exactly the
networks a private deployment needs (``SMSCLOUD_CALLBACK_ALLOWED_NETWORKS``) and nothing else.

Python's ``ipaddress`` flags (``is_private``, ``is_global``) are deliberately not the rule:
their tables changed between patch releases (3.11.10 and 3.12.4 rewrote them), they call
multicast "global", and a deployment's safety should not depend on its interpreter. The table
below is ours and its tests check it row by row.

IPv6 forms that carry an IPv4 address:
- IPv4-mapped ``::ffff:a.b.c.d`` (RFC 4291 §2.5.5.2) *is* the IPv4 address for a socket: it is
  judged as that address, the allowed networks included.
- NAT64 ``64:ff9b::/96`` (RFC 6052 §2.1) reaches the embedded IPv4 address through the
  operator's translator: judged by the embedded address.
- 6to4 ``2002::/16`` (RFC 3056, deprecated by RFC 7526), Teredo (inside ``2001::/23``) and
  IPv4-compatible ``::a.b.c.d`` (outside 2000::/3) are blocked outright.
An address with a zone identifier (``fe80::1%eth0``, RFC 6874) names a local link: blocked.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_network

__all__ = [
    "BLOCKED_NETWORKS",
    "NO_NETWORKS",
    "AllowedNetworks",
    "Block",
    "IPAddress",
    "IPNetwork",
    "blocked",
    "effective_address",
]

IPAddress = IPv4Address | IPv6Address
IPNetwork = IPv4Network | IPv6Network


class Block(StrEnum):
    """Why an address may not be reached."""

    LOOPBACK = "loopback"
    PRIVATE = "private"
    LINK_LOCAL = "link-local"
    MULTICAST = "multicast"
    UNSPECIFIED = "unspecified"
    RESERVED = "reserved"


# (network, why, where it is defined). Order does not matter: rows do not overlap.
BLOCKED_NETWORKS: tuple[tuple[IPNetwork, Block, str], ...] = tuple(
    (ip_network(net), why, ref)
    for net, why, ref in (
        # IPv4
        ("0.0.0.0/8", Block.UNSPECIFIED, "RFC 791 §3.2: this host on this network"),
        ("10.0.0.0/8", Block.PRIVATE, "RFC 1918"),
        ("100.64.0.0/10", Block.PRIVATE, "RFC 6598: shared address space (carrier NAT)"),
        ("127.0.0.0/8", Block.LOOPBACK, "RFC 1122 §3.2.1.3"),
        ("169.254.0.0/16", Block.LINK_LOCAL, "RFC 3927 (cloud metadata services live here)"),
        ("172.16.0.0/12", Block.PRIVATE, "RFC 1918"),
        ("192.0.0.0/24", Block.RESERVED, "RFC 6890 §2.2.2: IETF protocol assignments"),
        ("192.0.2.0/24", Block.RESERVED, "RFC 5737: documentation"),
        ("192.88.99.0/24", Block.RESERVED, "RFC 7526: former 6to4 relay anycast"),
        ("192.168.0.0/16", Block.PRIVATE, "RFC 1918"),
        ("198.18.0.0/15", Block.RESERVED, "RFC 2544: benchmarking"),
        ("198.51.100.0/24", Block.RESERVED, "RFC 5737: documentation"),
        ("203.0.113.0/24", Block.RESERVED, "RFC 5737: documentation"),
        ("224.0.0.0/4", Block.MULTICAST, "RFC 5771"),
        ("240.0.0.0/4", Block.RESERVED, "RFC 1112 §4 (and 255.255.255.255, RFC 919)"),
        # IPv6 inside 2000::/3 that is not globally reachable
        ("2001::/23", Block.RESERVED, "RFC 2928: IETF protocol assignments (Teredo, ORCHID)"),
        ("2001:db8::/32", Block.RESERVED, "RFC 3849: documentation"),
        ("2002::/16", Block.RESERVED, "RFC 3056 6to4, deprecated by RFC 7526"),
        ("3fff::/20", Block.RESERVED, "RFC 9637: documentation"),
        # IPv6 outside 2000::/3 with a reason of its own (the rest is RESERVED below)
        ("::/128", Block.UNSPECIFIED, "RFC 4291 §2.5.2"),
        ("::1/128", Block.LOOPBACK, "RFC 4291 §2.5.3"),
        ("64:ff9b:1::/48", Block.PRIVATE, "RFC 8215: local-use NAT64"),
        ("100::/64", Block.RESERVED, "RFC 6666: discard only"),
        ("fc00::/7", Block.PRIVATE, "RFC 4193: unique local"),
        ("fe80::/10", Block.LINK_LOCAL, "RFC 4291 §2.5.6"),
        ("fec0::/10", Block.PRIVATE, "RFC 3879: former site-local"),
        ("ff00::/8", Block.MULTICAST, "RFC 4291 §2.7"),
    )
)
GLOBAL_UNICAST = IPv6Network("2000::/3")  # RFC 4291 §2.4; IANA allocates nothing else
IPV4_MAPPED = IPv6Network("::ffff:0:0/96")  # RFC 4291 §2.5.5.2
NAT64 = IPv6Network("64:ff9b::/96")  # RFC 6052 §2.1, the well-known prefix


@dataclass(frozen=True, slots=True)
class AllowedNetworks:
    """Networks the operator re-opens for callbacks (``SMSCLOUD_CALLBACK_ALLOWED_NETWORKS``)."""

    networks: tuple[IPNetwork, ...] = ()

    @classmethod
    def parse(cls, text: str) -> AllowedNetworks:
        """Comma-separated networks in CIDR form (``10.0.0.0/8, fd00::/8``); empty: none.

        A network with host bits set (``10.0.0.1/8``) is refused rather than widened: the
        operator meant something, and it was not that.
        """
        networks: list[IPNetwork] = []
        for item in (part.strip() for part in text.split(",")):
            if not item:
                continue
            try:
                networks.append(ip_network(item, strict=True))
            except ValueError as exc:
                raise ValueError(
                    f"{item!r} is not a network in CIDR form such as 10.0.0.0/8 ({exc})"
                ) from None
        return cls(tuple(networks))

    def __contains__(self, address: object) -> bool:
        if not isinstance(address, IPv4Address | IPv6Address):
            return False
        return any(address.version == n.version and address in n for n in self.networks)

    def __str__(self) -> str:
        return ",".join(str(n) for n in self.networks)


NO_NETWORKS = AllowedNetworks()


def effective_address(address: IPAddress) -> IPAddress:
    """The address a connection really reaches: IPv4 for IPv4-mapped and NAT64 forms."""
    if (
        isinstance(address, IPv6Address)
        and address.scope_id is None
        and (address in IPV4_MAPPED or address in NAT64)
    ):
        return IPv4Address(int(address) & 0xFFFF_FFFF)
    return address


def blocked(address: IPAddress, allowed: AllowedNetworks = NO_NETWORKS) -> Block | None:
    """Why a connection to ``address`` is refused, or None when it may be made."""
    if isinstance(address, IPv6Address) and address.scope_id is not None:
        return Block.LINK_LOCAL  # a zone names a link of this host (RFC 6874)
    if address in allowed:
        return None
    inner = effective_address(address)
    if inner is not address:
        return blocked(inner, allowed)
    for network, why, _ in BLOCKED_NETWORKS:
        if address.version == network.version and address in network:
            return why
    if isinstance(address, IPv6Address) and address not in GLOBAL_UNICAST:
        return Block.RESERVED
    return None
