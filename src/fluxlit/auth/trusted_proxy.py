"""TrustedProxyUser: take the user name an authenticating reverse proxy puts in a header, but only from that proxy."""

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass

from fastapi import HTTPException, Request

from ..gateway.trust import TrustedProxies


@dataclass(frozen=True)
class TrustedProxyUserConfig:
    """The header the proxy sets, and the addresses or networks (CIDR) the proxy connects from."""

    header_name: str = "X-Remote-User"
    trusted_client_hosts: Sequence[str] = ("127.0.0.1", "::1")
    require_non_empty_user: bool = True

    def __post_init__(self) -> None:
        hosts = (self.trusted_client_hosts,) if isinstance(self.trusted_client_hosts, str) else tuple(self.trusted_client_hosts)
        object.__setattr__(self, "trusted_client_hosts", hosts)
        if not self.header_name.strip():
            raise ValueError("TrustedProxyUserConfig needs header_name, e.g. 'X-Remote-User'")
        if not hosts:
            raise ValueError("TrustedProxyUserConfig needs trusted_client_hosts: the proxy's addresses, e.g. ('10.0.0.5', '10.1.0.0/16')")


class TrustedProxyUser:
    """``Depends(TrustedProxyUser(config))``: the user the proxy names, 403 from any other peer, 401 without a user.

    The peer is ``request.client.host``. Under FluxLit that is the TCP peer, unless ``FLUXLIT_TRUST_PROXY``
    is on and the peer is in ``FLUXLIT_FORWARDED_ALLOW_IPS``: then the gateway has replaced it with the
    ``X-Forwarded-For`` client, and the proxy's own address is no longer visible here.
    """

    def __init__(self, config: TrustedProxyUserConfig | None = None) -> None:
        self.config = config or TrustedProxyUserConfig()
        exact, networks = set(), []
        for entry in self.config.trusted_client_hosts:
            try:
                network = ipaddress.ip_network(entry.strip(), strict=False)
            except ValueError:
                raise ValueError(f"trusted_client_hosts entry {entry!r} is not an IP address or CIDR (e.g. 10.0.0.0/8)") from None
            networks.append(network)
            if network.num_addresses == 1:
                exact.add(str(network.network_address))
        self.peers = TrustedProxies(exact=frozenset(exact), networks=tuple(networks))

    async def __call__(self, request: Request) -> str | None:
        name = self.config.header_name
        peer = request.client.host if request.client else None
        if not self.peers.trusts(peer):
            raise HTTPException(403, f"{name} is only accepted from the trusted proxy; this request came from another address")
        user = (request.headers.get(name) or "").strip()
        if not user:
            if self.config.require_non_empty_user:
                raise HTTPException(401, f"no user: the trusted proxy sent no {name} header")
            return None
        return user
