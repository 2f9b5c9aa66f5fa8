"""Header-policy kernel, pure twin: the readable specification.

Request side: reject heads that must not be served, and build the headers Streamlit receives.
Response side: drop hop-by-hop headers and set the request id. Header names arrive lower-case
from the server's parser; values are bytes as received.
"""

from .header_names import (
    CLIENT_FORWARDING,
    HONOURED_FROM_TRUSTED,
    HOP_BY_HOP,
    REQUEST_ID,
    RESPONSE_OWNED,
    STREAMLIT_NEEDS,
    STREAMLIT_NEEDS_PREFIXES,
    WEBSOCKET_HANDSHAKE,
    WITHHELD_CREDENTIALS,
)

Headers = list[tuple[bytes, bytes]]


def head_problem(url: bytes, headers: Headers, http_version: str, max_bytes: int, max_count: int) -> tuple[int, str] | None:
    """Status and reason for a request head that must not be served, or ``None``."""
    if len(headers) > max_count:
        return 431, f"more than {max_count} header fields (FLUXLIT_GATEWAY_MAX_HEADER_COUNT)"
    size = len(url)
    hosts = 0
    transfer_encoding: bytes | None = None
    for name, value in headers:
        size += len(name) + len(value) + 4
        if name == b"host":
            hosts += 1
        elif name == b"transfer-encoding":
            transfer_encoding = value
    if size > max_bytes:
        return 431, f"header block over {max_bytes} bytes (FLUXLIT_GATEWAY_MAX_HEADER_BYTES)"
    if http_version not in ("1.1", "1.0"):
        return 400, f"unsupported HTTP version {http_version}"
    if hosts > 1:
        return 400, "more than one Host header"
    if hosts == 0 and http_version == "1.1":
        return 400, "HTTP/1.1 request without a Host header"
    if transfer_encoding is not None:
        if http_version == "1.0":
            return 400, "Transfer-Encoding on an HTTP/1.0 request"
        if transfer_encoding.strip().lower() != b"chunked":
            # llhttp accepts codings before "chunked" (gzip, chunked); the proxy would drop them.
            return 400, "Transfer-Encoding other than chunked"
    return None


def connection_tokens(headers: Headers) -> set[bytes]:
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


def _forwards(name: bytes, allowlist: frozenset[bytes] | None) -> bool:
    if name in WITHHELD_CREDENTIALS or name.startswith(b"proxy-"):
        return False
    if allowlist is None:
        return True
    return name in STREAMLIT_NEEDS or name.startswith(STREAMLIT_NEEDS_PREFIXES) or name in allowlist


def upstream_request_headers(
    headers: Headers,
    client_host: str | None,
    scheme: str,
    request_id: bytes,
    websocket: bool,
    trusted: bool,
    allowlist: frozenset[bytes] | None,
) -> list[tuple[str, str]]:
    """Headers for the upstream request.

    Keeps one ``Host`` (Streamlit checks WebSocket ``Origin`` against it); drops hop-by-hop and
    ``Connection``-named headers, withheld credentials and, with an ``allowlist``, names Streamlit
    does not need. A ``trusted`` peer's ``X-Forwarded-For`` chain is extended with the peer and its
    ``X-Forwarded-Proto/-Host/-Port/-Prefix`` kept; otherwise every client forwarding header is
    removed and ``X-Forwarded-For/-Proto/-Host`` come from the socket. The request id comes last.
    """
    drop = HOP_BY_HOP | connection_tokens(headers)
    if websocket:
        drop |= WEBSOCKET_HANDSHAKE
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
        elif name not in drop and _forwards(name, allowlist):
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


def downstream_response_headers(headers: Headers, request_id: bytes) -> Headers:
    """Upstream response headers for the client: hop-by-hop out, the request id in."""
    headers = list(headers)
    drop = HOP_BY_HOP | RESPONSE_OWNED | connection_tokens(headers)
    out = [(name.lower(), value) for name, value in headers if name.lower() not in drop]
    out.append((REQUEST_ID, request_id))
    return out
