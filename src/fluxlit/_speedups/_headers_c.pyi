"""Type stub for the compiled header-policy kernel; the surface is ``_headers_py``'s."""

from ._headers_py import HeaderPairs, Headers

def head_problem(url: bytes, headers: Headers, http_version: str, max_bytes: int, max_count: int) -> tuple[int, str] | None:
    """Status and reason for a request head that must not be served, or ``None``."""

def target_problem(url: bytes) -> str | None:
    """Why a request target must be refused, or ``None`` (see ``_headers_py.target_problem``)."""

def host_problem(host: bytes) -> str | None:
    """Why a ``Host`` value is not ``host[:port]`` (path, userinfo, spaces, bad port), or ``None``."""

def connection_tokens(headers: HeaderPairs) -> set[bytes]:
    """Header names listed in ``Connection``: hop-by-hop by declaration."""

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
    """Headers for the upstream request (see ``_headers_py.upstream_request_headers``)."""

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
    """The upstream request head, the request id, the body's framing and Expect (see ``_headers_py.upstream_head``)."""

def downstream_response_headers(headers: HeaderPairs, request_id: bytes) -> Headers:
    """Upstream response headers for the client: hop-by-hop out, the request id in."""

def parse_response_head(raw: bytes) -> tuple[int, Headers] | None:
    """Status and header fields of a response head, or ``None`` (see ``_headers_py.parse_response_head``)."""

def downstream_head(
    raw: bytes, request_id: bytes, defaults: bytes, keep_alive: bool, http11: bool, bodiless: bool
) -> tuple[int, bytes, bool, bool]:
    """The client's response head, built from the upstream's raw one (see ``_headers_py.downstream_head``)."""
