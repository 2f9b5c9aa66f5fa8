"""Header policy for the proxy hop, bound to the gateway's settings; the work is done by the kernel."""

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .. import _speedups
from .._speedups.header_names import REQUEST_ID
from ..settings import refused_forward_header
from .trust import TrustedProxies

if TYPE_CHECKING:
    from ..settings import FluxlitSettings

__all__ = [
    "REQUEST_ID",
    "HeaderPolicy",
    "downstream_response_headers",
    "streamlit_header_refusal",
    "upstream_headers_for",
    "upstream_request_headers",
]


@dataclass(frozen=True, slots=True)
class HeaderPolicy:
    """The settings-dependent part of the header policy, built once per gateway.

    ``allowlist`` is ``None`` when every end-to-end browser header goes to Streamlit (the default);
    otherwise only the headers Streamlit needs and the allowlisted names do. ``underscores`` lets
    header names with an underscore through (dropped by default).
    """

    proxies: TrustedProxies = field(default_factory=TrustedProxies)
    allowlist: frozenset[bytes] | None = None
    underscores: bool = False

    @classmethod
    def from_settings(cls, settings: "FluxlitSettings") -> "HeaderPolicy":
        """The policy for ``FLUXLIT_TRUST_PROXY``, ``..._FORWARDED_ALLOW_IPS``, the forward allowlist and underscores."""
        names = settings.forward_client_headers
        allowlist = frozenset(n.encode() for n in names) if names else None
        return cls(TrustedProxies.from_settings(settings), allowlist, settings.gateway_allow_underscore_headers)


DEFAULT_POLICY = HeaderPolicy()


def upstream_request_headers(
    headers: list[tuple[bytes, bytes]],
    *,
    client_host: str | None,
    scheme: str,
    request_id: bytes,
    websocket: bool = False,
    policy: HeaderPolicy = DEFAULT_POLICY,
) -> list[tuple[str, str]]:
    """Headers for the upstream request under ``policy`` (see the header-policy kernel)."""
    trusted = policy.proxies.trusts(client_host)
    return _speedups.upstream_request_headers(headers, client_host, scheme, request_id, websocket, trusted, policy.allowlist, policy.underscores)


def downstream_response_headers(headers: Iterable[tuple[bytes, bytes]], *, request_id: bytes) -> list[tuple[bytes, bytes]]:
    """Upstream response headers for the client: hop-by-hop out, the request id in."""
    return _speedups.downstream_response_headers(headers, request_id)


def upstream_headers_for(scope: dict, request_id: bytes, policy: HeaderPolicy) -> list[tuple[str, str]]:
    """``upstream_request_headers`` for an ASGI HTTP or WebSocket scope under the gateway's ``policy``."""
    client = scope.get("client")
    return upstream_request_headers(
        scope["headers"],
        client_host=client[0] if client else None,
        scheme=scope.get("scheme", "http"),
        request_id=request_id,
        websocket=scope["type"] == "websocket",
        policy=policy,
    )


def streamlit_header_refusal(policy: HeaderPolicy, name: str) -> str | None:
    """Why a browser header named ``name`` never reaches Streamlit (and so never a page), or ``None``.

    Asks the kernel itself, so pages see exactly what the WebSocket handshake carries.
    """
    lowered = name.strip().lower()
    sent = upstream_request_headers([(lowered.encode(), b"x")], client_host="192.0.2.1", scheme="http", request_id=b"-", websocket=True, policy=policy)
    if any(n.lower() == lowered for n, _ in sent):
        return None
    if reason := refused_forward_header(lowered):
        return f"the gateway never forwards it ({reason})"
    if "_" in lowered and not policy.underscores:
        return "its name has an underscore; set FLUXLIT_GATEWAY_ALLOW_UNDERSCORE_HEADERS=1 to let such names through"
    return "it is not on FLUXLIT_GATEWAY_FORWARD_CLIENT_HEADERS_TO_STREAMLIT; add it there"
