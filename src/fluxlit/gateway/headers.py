"""Header policy for the proxy hop: what goes to Streamlit and what comes back to the client."""

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..settings import CREDENTIAL_HEADERS
from .trust import TrustedProxies

if TYPE_CHECKING:
    from ..settings import FluxlitSettings

RawHeaders = Iterable[tuple[bytes, bytes]]

HOP_BY_HOP = frozenset(
    {
        b"connection",
        b"keep-alive",
        b"proxy-connection",
        b"proxy-authenticate",
        b"proxy-authorization",
        b"te",
        b"trailer",
        b"trailers",
        b"transfer-encoding",
        b"upgrade",
        # The gateway answers 100-continue itself; h2c upgrades are never forwarded.
        b"expect",
        b"http2-settings",
    }
)
CLIENT_FORWARDING = frozenset(
    {
        b"forwarded",
        b"x-forwarded-for",
        b"x-forwarded-host",
        b"x-forwarded-proto",
        b"x-forwarded-port",
        b"x-forwarded-prefix",
        b"x-real-ip",
        b"x-scheme",
        b"x-request-id",
    }
)
# What a trusted proxy may tell Streamlit besides the X-Forwarded-For chain (first value wins).
HONOURED_FROM_TRUSTED = (b"x-forwarded-proto", b"x-forwarded-host", b"x-forwarded-port", b"x-forwarded-prefix")
WEBSOCKET_HANDSHAKE = frozenset(
    {b"sec-websocket-key", b"sec-websocket-version", b"sec-websocket-extensions", b"sec-websocket-protocol"}
)
# Credentials for the API or other services that Streamlit has no use for. Cookie stays: Streamlit's
# XSRF check and st.login read it.
WITHHELD_CREDENTIALS = frozenset(n.encode() for n in CREDENTIAL_HEADERS - {"cookie"})
# With an allowlist set, these still go through: Streamlit's pages, assets, uploads, XSRF check,
# WebSocket handshake and agent API read them.
STREAMLIT_NEEDS = frozenset(
    {
        b"host",
        b"cookie",
        b"user-agent",
        b"origin",
        b"referer",
        b"content-type",
        b"content-length",
        b"range",
        b"cache-control",
        b"pragma",
        b"sec-websocket-protocol",
        b"x-xsrftoken",
        b"x-csrftoken",
        b"mcp-protocol-version",
    }
)
STREAMLIT_NEEDS_PREFIXES = (b"accept", b"if-", b"sec-fetch-")
# The front server (uvicorn) writes its own Date and Server; the upstream's would be duplicates.
RESPONSE_OWNED = frozenset({b"date", b"server", b"x-request-id"})

REQUEST_ID = b"x-request-id"


@dataclass(frozen=True, slots=True)
class HeaderPolicy:
    """The settings-dependent part of the header policy, built once per gateway.

    ``allowlist`` is ``None`` when every end-to-end browser header goes to Streamlit (the default);
    otherwise only ``STREAMLIT_NEEDS`` and the allowlisted names do.
    """

    proxies: TrustedProxies = field(default_factory=TrustedProxies)
    allowlist: frozenset[bytes] | None = None

    @classmethod
    def from_settings(cls, settings: "FluxlitSettings") -> "HeaderPolicy":
        """The policy for ``FLUXLIT_TRUST_PROXY``, ``..._FORWARDED_ALLOW_IPS`` and the forward allowlist."""
        names = settings.forward_client_headers
        return cls(TrustedProxies.from_settings(settings), frozenset(n.encode() for n in names) if names else None)

    def forwards(self, name: bytes) -> bool:
        """Whether an end-to-end client header (lower-case name) may go to Streamlit."""
        if name in WITHHELD_CREDENTIALS or name.startswith(b"proxy-"):
            return False
        if self.allowlist is None:
            return True
        return name in STREAMLIT_NEEDS or name.startswith(STREAMLIT_NEEDS_PREFIXES) or name in self.allowlist


DEFAULT_POLICY = HeaderPolicy()


def connection_tokens(headers: RawHeaders) -> set[bytes]:
    """Header names listed in ``Connection``: hop-by-hop by declaration."""
    tokens: set[bytes] = set()
    for name, value in headers:
        if name.lower() == b"connection":
            tokens.update(t.strip().lower() for t in value.split(b",") if t.strip())
    return tokens


def _text(value: bytes) -> str:
    # aiohttp writes header text as UTF-8: UTF-8 input round-trips byte for byte; other bytes
    # cannot, and are carried as Latin-1 rather than failing the request.
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        return value.decode("latin-1")


def _first(value: bytes) -> bytes:
    # A chain of proxies lists values left to right; the leftmost describes the original request.
    return value.split(b",", 1)[0].strip()


def _proto(value: bytes | None, scheme: str) -> str:
    claimed = _first(value).lower() if value is not None else b""
    if claimed in (b"http", b"https"):
        return claimed.decode()
    return "https" if scheme in ("https", "wss") else "http"


def upstream_request_headers(
    headers: list[tuple[bytes, bytes]],
    *,
    client_host: str | None,
    scheme: str,
    request_id: bytes,
    websocket: bool = False,
    policy: HeaderPolicy = DEFAULT_POLICY,
) -> list[tuple[str, str]]:
    """Headers for the upstream request.

    Keeps one ``Host`` (Streamlit checks WebSocket ``Origin`` against it), drops hop-by-hop and
    ``Connection``-named headers, withheld credentials and names outside the allowlist. When the
    socket peer is a trusted proxy its ``X-Forwarded-For`` chain is extended with the peer and its
    ``X-Forwarded-Proto/-Host/-Port/-Prefix`` kept; otherwise every client forwarding header is
    removed and ``X-Forwarded-For/-Proto/-Host`` come from the socket. The request id is added last.
    """
    drop = HOP_BY_HOP | connection_tokens(headers)
    if websocket:
        drop |= WEBSOCKET_HANDSHAKE
    trusted = policy.proxies.trusts(client_host)
    chain: list[bytes] = []
    claimed: dict[bytes, bytes] = {}
    out: list[tuple[str, str]] = []
    host: bytes | None = None
    for raw_name, value in headers:
        name = raw_name.lower()
        if name == b"host":
            if host is None:
                host = value
                out.append(("Host", _text(value)))
        elif name in CLIENT_FORWARDING:
            if not trusted:
                continue
            if name == b"x-forwarded-for":
                chain.extend(hop for part in value.split(b",") if (hop := part.strip()))
            elif name in HONOURED_FROM_TRUSTED:
                claimed.setdefault(name, value)
        elif name not in drop and policy.forwards(name):
            out.append((_text(name), _text(value)))
    if client_host:
        chain.append(client_host.encode())
    if chain:
        out.append(("X-Forwarded-For", _text(b", ".join(chain))))
    out.append(("X-Forwarded-Proto", _proto(claimed.get(b"x-forwarded-proto"), scheme)))
    forwarded_host = _first(claimed[b"x-forwarded-host"]) if b"x-forwarded-host" in claimed else host
    if forwarded_host:
        out.append(("X-Forwarded-Host", _text(forwarded_host)))
    for name in (b"x-forwarded-port", b"x-forwarded-prefix"):
        if name in claimed:
            out.append((_text(name), _text(_first(claimed[name]))))
    out.append(("X-Request-ID", request_id.decode("ascii")))
    return out


def downstream_response_headers(headers: RawHeaders, *, request_id: bytes) -> list[tuple[bytes, bytes]]:
    """Upstream response headers for the client: hop-by-hop out, the request id in."""
    headers = list(headers)
    drop = HOP_BY_HOP | RESPONSE_OWNED | connection_tokens(headers)
    out = [(name.lower(), value) for name, value in headers if name.lower() not in drop]
    out.append((REQUEST_ID, request_id))
    return out


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
