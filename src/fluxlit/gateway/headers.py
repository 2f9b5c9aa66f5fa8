"""Header policy for the proxy hop: what goes to Streamlit and what comes back to the client."""

from collections.abc import Iterable

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
WEBSOCKET_HANDSHAKE = frozenset(
    {b"sec-websocket-key", b"sec-websocket-version", b"sec-websocket-extensions", b"sec-websocket-protocol"}
)
# The front server (uvicorn) writes its own Date and Server; the upstream's would be duplicates.
RESPONSE_OWNED = frozenset({b"date", b"server", b"x-request-id"})

REQUEST_ID = b"x-request-id"


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


def upstream_request_headers(
    headers: list[tuple[bytes, bytes]],
    *,
    client_host: str | None,
    scheme: str,
    request_id: bytes,
    websocket: bool = False,
) -> list[tuple[str, str]]:
    """Headers for the upstream request.

    Keeps ``Host`` (Streamlit checks WebSocket ``Origin`` against it), drops hop-by-hop and
    ``Connection``-named headers and every client-supplied forwarding header, then sets
    ``X-Forwarded-For/-Proto/-Host`` from the socket and adds the request id.
    """
    drop = HOP_BY_HOP | CLIENT_FORWARDING | connection_tokens(headers)
    if websocket:
        drop |= WEBSOCKET_HANDSHAKE
    out: list[tuple[str, str]] = []
    host: bytes | None = None
    for raw_name, value in headers:
        name = raw_name.lower()
        if name == b"host":
            if host is None:
                host = value
                out.append(("Host", _text(value)))
            continue
        if name not in drop:
            out.append((_text(name), _text(value)))
    if client_host:
        out.append(("X-Forwarded-For", client_host))
    out.append(("X-Forwarded-Proto", "https" if scheme in ("https", "wss") else "http"))
    if host is not None:
        out.append(("X-Forwarded-Host", _text(host)))
    out.append(("X-Request-ID", request_id.decode("ascii")))
    return out


def downstream_response_headers(headers: RawHeaders, *, request_id: bytes) -> list[tuple[bytes, bytes]]:
    """Upstream response headers for the client: hop-by-hop out, the request id in."""
    headers = list(headers)
    drop = HOP_BY_HOP | RESPONSE_OWNED | connection_tokens(headers)
    out = [(name.lower(), value) for name, value in headers if name.lower() not in drop]
    out.append((REQUEST_ID, request_id))
    return out


def upstream_headers_for(scope: dict, request_id: bytes) -> list[tuple[str, str]]:
    """``upstream_request_headers`` for an ASGI HTTP or WebSocket scope."""
    client = scope.get("client")
    return upstream_request_headers(
        scope["headers"],
        client_host=client[0] if client else None,
        scheme=scope.get("scheme", "http"),
        request_id=request_id,
        websocket=scope["type"] == "websocket",
    )
