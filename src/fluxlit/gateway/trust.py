"""Which socket peers are trusted reverse proxies, and what they report (``FLUXLIT_TRUST_PROXY``)."""

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..settings import FluxlitSettings

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

ANY_PEER = "*"


@dataclass(frozen=True, slots=True)
class TrustedProxies:
    """The peers whose ``X-Forwarded-*`` headers are honoured, parsed once at startup.

    ``exact`` holds single addresses in canonical text form so the common case (a proxy on one
    address) is a set lookup; ``networks`` holds every entry for the general check.
    """

    any_peer: bool = False
    exact: frozenset[str] = frozenset()
    networks: tuple[Network, ...] = ()

    @classmethod
    def from_entries(cls, entries: Iterable[str]) -> "TrustedProxies":
        """Trust for IPs and CIDRs (``*`` = any peer); ``ValueError`` names a bad entry."""
        any_peer, exact, networks = False, set(), []
        for entry in entries:
            entry = entry.strip()
            if entry == ANY_PEER:
                any_peer = True
                continue
            try:
                network = ipaddress.ip_network(entry, strict=False)
            except ValueError:
                raise ValueError(f"FLUXLIT_FORWARDED_ALLOW_IPS entry {entry!r} is not an IP address or CIDR (e.g. 10.0.0.0/8)") from None
            networks.append(network)
            if network.num_addresses == 1:
                exact.add(str(network.network_address))
        return cls(any_peer, frozenset(exact), tuple(networks))

    @classmethod
    def from_settings(cls, settings: "FluxlitSettings") -> "TrustedProxies":
        """The trusted peers for these settings: none unless ``trust_proxy`` is on."""
        if not settings.trust_proxy:
            return cls()
        return cls.from_entries(settings.forwarded_allow_ips)

    def trusts(self, peer: str | None) -> bool:
        """Whether the socket peer ``peer`` (an IP text, or ``None`` when unknown) is a trusted proxy."""
        if self.any_peer:
            return True
        if not peer or not self.networks:
            return False
        if peer in self.exact:
            return True
        try:
            address = ipaddress.ip_address(peer.strip("[]"))
        except ValueError:
            return False
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        return any(address in network for network in self.networks)


def forwarded_scope(scope: dict[str, Any], proxies: TrustedProxies) -> dict[str, Any]:
    """``client`` and ``scheme`` overrides for the API when a trusted proxy reports them, else ``{}``.

    The client is the nearest ``X-Forwarded-For`` hop that is not itself a trusted proxy (the leftmost
    when every hop is trusted); the scheme is the first ``X-Forwarded-Proto`` value.
    """
    client = scope.get("client")
    if not proxies.trusts(client[0] if client else None):
        return {}
    chain: list[str] = []
    proto: str | None = None
    for name, value in scope["headers"]:
        name = name.lower()
        if name == b"x-forwarded-for":
            chain += [hop for part in value.decode("latin-1").split(",") if (hop := part.strip())]
        elif name == b"x-forwarded-proto" and proto is None:
            proto = value.decode("latin-1").split(",", 1)[0].strip().lower()
    overrides: dict[str, Any] = {}
    if chain:
        overrides["client"] = (next((hop for hop in reversed(chain) if not proxies.trusts(hop)), chain[0]), 0)
    if proto in ("http", "https"):
        overrides["scheme"] = proto if scope["type"] == "http" else proto.replace("http", "ws")
    return overrides
