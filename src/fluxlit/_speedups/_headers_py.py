"""Header-policy kernel, pure twin: the readable specification.

Request side: reject heads that must not be served, and build the headers Streamlit receives.
Response side: drop hop-by-hop headers and set the request id. Header names arrive lower-case
from the server's parser; values are bytes as received.
"""

from collections.abc import Iterable

from ._request_id_py import request_id_for
from .constants import STATUS_LINES
from .header_names import (
    CLIENT_FORWARDING,
    HONOURED_FROM_TRUSTED,
    HOP_BY_HOP,
    OVERRIDE_AND_IDENTITY,
    REQUEST_ID,
    RESPONSE_OWNED,
    STREAMLIT_NEEDS,
    STREAMLIT_NEEDS_PREFIXES,
    WEBSOCKET_HANDSHAKE,
    WITHHELD_CREDENTIALS,
)

Headers = list[tuple[bytes, bytes]]
HeaderPairs = Iterable[tuple[bytes, bytes]]
"""What the response side and ``connection_tokens`` accept: any iterable of pairs (aiohttp gives a tuple)."""


def head_problem(url: bytes, headers: Headers, http_version: str, max_bytes: int, max_count: int) -> tuple[int, str] | None:
    """Status and reason for a request head that must not be served, or ``None``."""
    if len(headers) > max_count:
        return 431, f"more than {max_count} header fields (FLUXLIT_GATEWAY_MAX_HEADER_COUNT)"
    size = len(url)
    hosts = 0
    host = b""
    transfer_encoding: bytes | None = None
    not_utf8: bytes | None = None
    for name, value in headers:
        size += len(name) + len(value) + 4
        if not_utf8 is None and not value.isascii() and not _is_utf8(value):
            not_utf8 = name
        if name == b"host":
            hosts += 1
            host = value
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
    if not_utf8 is not None:
        # The two lanes could not forward it alike (an HTTP client library re-encodes text as UTF-8).
        return 400, f"the {not_utf8.decode('latin-1')} header's value is not UTF-8; send UTF-8 text"
    if problem := target_problem(url):
        return 400, problem
    if problem := host_problem(host):
        return 400, problem
    return None


def _is_utf8(value: bytes) -> bool:
    try:
        value.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def target_problem(url: bytes) -> str | None:
    """Why a request target must be refused, or ``None``.

    Refused: a path with a dot-segment (raw or percent-encoded, also beside an encoded slash or
    backslash), an encoded NUL, a raw backslash or a leading ``//``; a fragment; a target that is
    neither a path, an absolute URL nor ``*``. Anything else is forwarded byte for byte, so the upstream must
    never see a path that means something else once it normalises it.
    """
    if url == b"*":
        return None  # asterisk-form: the edge answers it
    if b"#" in url:
        return "fragment (#) in the request target; a fragment stays in the browser"
    path = url
    if url[:1] != b"/":
        scheme, separator, rest = url.partition(b"://")
        if not separator or not scheme.isalpha():
            return "request target is not a path; send an origin-form target such as /page"
        slash = rest.find(b"/")
        path = rest[slash:] if slash >= 0 else b"/"
    path = path.split(b"?", 1)[0]
    if b"\\" in path:
        return "backslash in the request path; use /"
    if path[:2] == b"//":
        return "request path starts with //"
    lowered = path.lower()
    if b"%00" in lowered:
        return "encoded NUL (%00) in the request path"
    if b"." not in path and b"%2e" not in lowered:
        return None
    # Segments as a normalising back end sees them: encoded dots, slashes and backslashes decoded.
    segments = lowered.replace(b"%2e", b".").replace(b"%2f", b"/").replace(b"%5c", b"/").split(b"/")
    if b"." in segments or b".." in segments:
        return "dot-segment (. or ..) in the request path, raw or percent-encoded; send the normalised path"
    return None


_HOST_NAME_BYTES = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~!$&'()*+,;=%")
_IPV6_BYTES = frozenset(b"0123456789abcdefABCDEF:.")


def host_problem(host: bytes) -> str | None:
    """Why a ``Host`` value is not ``host[:port]`` (path, userinfo, spaces, bad port), or ``None``."""
    if not host:
        return None  # empty Host: allowed for a target without an authority
    port: bytes | None = None
    if host[:1] == b"[":
        end = host.find(b"]")
        literal, rest = (host[1:end], host[end + 1 :]) if end > 0 else (b"", b"")
        if not literal or not _IPV6_BYTES.issuperset(literal) or (rest and rest[:1] != b":"):
            return "Host is not a valid [IPv6] literal; send host[:port]"
        if rest:
            port = rest[1:]
    else:
        name, colon, after = host.partition(b":")
        if not _HOST_NAME_BYTES.issuperset(name):
            return "Host is not host[:port] (no path, userinfo, spaces or other characters)"
        if colon:
            port = after
    if port is not None and not (port.isdigit() and len(port) <= 5 and 0 < int(port) <= 65535):
        return "Host has a bad port; send a port from 1 to 65535"
    return None


def connection_tokens(headers: HeaderPairs) -> set[bytes]:
    """Header names listed in ``Connection``: hop-by-hop by declaration.

    Never ``Content-Length``: dropping it while the body still flows would let the body be read
    as another request (smuggling), so the framing cannot be declared away.
    """
    tokens: set[bytes] = set()
    for name, value in headers:
        if name.lower() == b"connection":
            tokens.update(t.strip().lower() for t in value.split(b",") if t.strip())
    tokens.discard(b"content-length")
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


def _forwards(name: bytes, allowlist: frozenset[bytes] | None, underscores: bool) -> bool:
    if name in WITHHELD_CREDENTIALS or name in OVERRIDE_AND_IDENTITY or name.startswith(b"proxy-"):
        return False
    if b"_" in name and not underscores:
        return False  # nginx's default: some back ends read Content_Length or X_Forwarded_For as the dashed name
    if allowlist is None:
        return True
    return name in STREAMLIT_NEEDS or name.startswith(STREAMLIT_NEEDS_PREFIXES) or name in allowlist


def _upstream_pairs(
    headers: Headers,
    client_host: str | None,
    scheme: str,
    handshake: bool | None,
    trusted: bool,
    allowlist: frozenset[bytes] | None,
    underscores: bool,
) -> tuple[list[tuple[bytes, bytes]], bytes | None, bytes | None]:
    """The header pass both lanes share: the forwarded pairs, the client's Host and its ``X-Request-ID``.

    ``handshake`` is ``None`` for plain HTTP, ``False`` to drop a WebSocket handshake's own headers
    (an HTTP client library makes new ones) and ``True`` to keep them (the bytes are spliced).
    """
    drop = HOP_BY_HOP | connection_tokens(headers)
    if handshake is False:
        drop |= WEBSOCKET_HANDSHAKE
    chain: list[bytes] = []
    claimed: dict[bytes, bytes] = {}
    out: list[tuple[bytes, bytes]] = []
    host: bytes | None = None
    incoming_id: bytes | None = None
    for raw_name, value in headers:
        name = raw_name.lower()
        if name == b"host":
            if host is None:
                host = value
                out.append((b"Host", value))
        elif name in CLIENT_FORWARDING:
            if name == REQUEST_ID:
                incoming_id = value if incoming_id is None else incoming_id
            elif not trusted:
                continue
            elif name == b"x-forwarded-for":
                chain.extend(hop for part in value.split(b",") if (hop := part.strip()))
            elif name in HONOURED_FROM_TRUSTED:
                claimed.setdefault(name, value)
        elif name not in drop and (_forwards(name, allowlist, underscores) or (handshake and name in WEBSOCKET_HANDSHAKE)):
            out.append((name, value))
    if client_host:
        chain.append(client_host.encode())
    if chain:
        out.append((b"X-Forwarded-For", b", ".join(chain)))
    out.append((b"X-Forwarded-Proto", _proto(claimed.get(b"x-forwarded-proto"), scheme).encode()))
    forwarded_host = _first(claimed[b"x-forwarded-host"]) if b"x-forwarded-host" in claimed else host
    if forwarded_host:
        out.append((b"X-Forwarded-Host", forwarded_host))
    for name in (b"x-forwarded-port", b"x-forwarded-prefix"):
        if name in claimed:
            out.append((name, _first(claimed[name])))
    return out, host, incoming_id


def upstream_request_headers(
    headers: Headers,
    client_host: str | None,
    scheme: str,
    request_id: bytes,
    websocket: bool,
    trusted: bool,
    allowlist: frozenset[bytes] | None,
    underscores: bool = False,
) -> list[tuple[str, str]]:
    """Headers for an upstream request made by an HTTP client library (the ASGI lane).

    Keeps one ``Host`` (Streamlit checks WebSocket ``Origin`` against it); drops hop-by-hop and
    ``Connection``-named headers, withheld credentials, override and identity headers, names with an
    underscore (unless ``underscores``) and, with an ``allowlist``, names Streamlit does not need. A
    ``trusted`` peer's ``X-Forwarded-For`` chain is extended with the peer and its
    ``X-Forwarded-Proto/-Host/-Port/-Prefix`` kept; otherwise every client forwarding header is
    removed and ``X-Forwarded-For/-Proto/-Host`` come from the socket. The request id comes last.
    """
    pairs, _, _ = _upstream_pairs(headers, client_host, scheme, False if websocket else None, trusted, allowlist, underscores)
    out = [(_text(name), _text(value)) for name, value in pairs]
    out.append(("X-Request-ID", request_id.decode("ascii")))
    return out


def upstream_head(
    method: bytes,
    target: bytes,
    headers: Headers,
    client_host: str | None,
    scheme: str,
    websocket: bool,
    trusted: bool,
    allowlist: frozenset[bytes] | None,
    default_host: bytes,
    underscores: bool = False,
) -> tuple[bytes, bytes, int, bool]:
    """The upstream request head as bytes, the request id (the client's when valid, else minted),
    the body's framing (``-1`` chunked, else the Content-Length, 0 for none) and whether the client
    expects ``100 Continue``, all from one pass over the client's headers.

    The same policy as ``upstream_request_headers``; the request target goes as received. A
    WebSocket handshake keeps its ``Sec-WebSocket-*`` headers and gets ``Connection: Upgrade``; a
    chunked body is re-framed, so ``Transfer-Encoding: chunked`` is set here; a request without
    ``Host`` (HTTP/1.0) gets ``default_host``.
    """
    pairs, host, incoming_id = _upstream_pairs(headers, client_host, scheme, True if websocket else None, trusted, allowlist, underscores)
    request_id = request_id_for(incoming_id)
    length, expect = _framing(headers)
    chunked = length < 0
    lines = [method, b" ", target, b" HTTP/1.1\r\n"]
    if host is None:
        lines += [b"Host: ", default_host, b"\r\n"]
    for name, value in pairs:
        lines += [name, b": ", value, b"\r\n"]
    lines += [b"X-Request-ID: ", request_id, b"\r\n"]
    if websocket:
        lines.append(b"Connection: Upgrade\r\nUpgrade: websocket\r\n")
    elif chunked:
        lines.append(b"Transfer-Encoding: chunked\r\n")
    lines.append(b"\r\n")
    return b"".join(lines), request_id, length, expect


def _digits(value: bytes) -> int:
    # The server's parser has refused malformed lengths already; anything else reads as its digits,
    # saturating far above any body cap.
    number = 0
    for byte in value:
        if 48 <= byte <= 57 and number < 1 << 58:
            number = number * 10 + byte - 48
    return min(number, 1 << 60)


def _framing(headers: Headers) -> tuple[int, bool]:
    length, expect = 0, False
    for name, value in headers:
        name = name.lower()
        if name == b"content-length":
            length = _digits(value)
        elif name == b"transfer-encoding":
            length = -1
        elif name == b"expect":
            expect = expect or value.lower() == b"100-continue"
    return length, expect


def downstream_response_headers(headers: HeaderPairs, request_id: bytes) -> Headers:
    """Upstream response headers for the client: hop-by-hop out, the request id in."""
    headers = list(headers)
    drop = HOP_BY_HOP | RESPONSE_OWNED | connection_tokens(headers)
    out = [(name.lower(), value) for name, value in headers if name.lower() not in drop]
    out.append((REQUEST_ID, request_id))
    return out


def parse_response_head(raw: bytes) -> tuple[int, Headers] | None:
    """Status and header fields (names lower-cased) of a response head, or ``None`` when malformed."""
    lines = raw.split(b"\r\n")
    status_line = lines[0]
    if len(status_line) < 12 or not status_line.startswith(b"HTTP/1.") or status_line[12:13] not in (b"", b" "):
        return None
    code = status_line[9:12]
    if not code.isdigit():
        return None
    headers: Headers = []
    for line in lines[1:]:
        if not line:
            continue
        name, colon, value = line.partition(b":")
        if not colon or not name or name != name.strip(b" \t"):
            return None
        headers.append((name.lower(), value.strip(b" \t")))
    return int(code), headers


def downstream_head(raw: bytes, request_id: bytes, defaults: bytes, keep_alive: bool, http11: bool, bodiless: bool) -> tuple[int, bytes, bool, bool]:
    """The client's response head, built from the upstream's raw one.

    Returns ``(status, head, chunked, keep_alive)``; status 0 means the upstream's head is malformed.
    The head is the status line with the standard phrase, ``defaults`` (the server's Date), the
    upstream headers filtered as ``downstream_response_headers`` does, then the framing: a body the
    upstream sent chunked or delimited by closing is re-framed as chunks for an HTTP/1.1 client
    (``chunked``), or sent as is to an HTTP/1.0 client, which then cannot keep the connection.
    ``bodiless`` is true for an answer to ``HEAD``. A 101 keeps ``Upgrade: websocket``.
    """
    parsed = parse_response_head(raw)
    if parsed is None:
        return 0, b"", False, False
    status, headers = parsed
    upstream_chunked = has_length = False
    for name, value in headers:
        name = name.lower()
        if name == b"transfer-encoding":
            upstream_chunked = value.lower().endswith(b"chunked")
        elif name == b"content-length":
            has_length = True
    chunked = False
    if not (bodiless or status in (204, 304) or status < 200) and (upstream_chunked or not has_length):
        chunked = http11
        keep_alive = keep_alive and http11
    lines = [STATUS_LINES.get(status) or b"HTTP/1.1 %d \r\n" % status, defaults]
    for name, value in downstream_response_headers(headers, request_id):
        lines += [name, b": ", value, b"\r\n"]
    if status == 101:
        lines.append(b"connection: upgrade\r\nupgrade: websocket\r\n")
    elif chunked:
        lines.append(b"transfer-encoding: chunked\r\n")
    if not keep_alive and status != 101:
        lines.append(b"connection: close\r\n")
    lines.append(b"\r\n")
    return status, b"".join(lines), chunked, keep_alive
