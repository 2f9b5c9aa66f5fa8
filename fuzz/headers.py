"""Fuzz target: both header-policy twins on one request head and one upstream response head.

Input layout: the policy knobs are taken from the end of the input (one byte each, two for
``max_bytes``); the rest is a request head, a blank line and a raw response head, so seeds are
real HTTP text.
"""

import atheris

from fluxlit._speedups.header_names import (
    CLIENT_FORWARDING,
    HOP_BY_HOP,
    OVERRIDE_AND_IDENTITY,
    STREAMLIT_NEEDS,
    WEBSOCKET_HANDSHAKE,
    WITHHELD_CREDENTIALS,
)
from fuzz.twins import agree, fuzz, twins

Headers = list[tuple[bytes, bytes]]

RID = b"0123456789abcdef0123456789abcdef"
CLIENTS = [None, "", "127.0.0.1", "::1", "203.0.113.9", "10.0.0.1", "2001:db8::1", "localhost"]
SCHEMES = ["http", "https", "ws", "wss"]
DEFAULTS = [b"", b"date: Thu, 01 Jan 2026 00:00:00 GMT\r\n"]
KNOWN_NAMES = frozenset(HOP_BY_HOP | CLIENT_FORWARDING | OVERRIDE_AND_IDENTITY | WEBSOCKET_HANDSHAKE | WITHHELD_CREDENTIALS | STREAMLIT_NEEDS)


def split_request(text: bytes) -> tuple[bytes, bytes, str, Headers, bytes]:
    """Method, target, version, header fields (values stripped as a parser does) and what follows the blank line."""
    head, _, response = text.partition(b"\r\n\r\n")
    first, *lines = head.split(b"\r\n")
    method, _, rest = first.partition(b" ")
    target, _, version = rest.rpartition(b" ")
    headers = [(name, value.strip(b" \t")) for name, _, value in (line.partition(b":") for line in lines)]
    return method, target, version.removeprefix(b"HTTP/").decode("latin-1"), headers, response


def without_minted_id(result: object, headers: Headers) -> object:
    """``upstream_head``'s result with a minted request id (random by design) replaced by a marker."""
    head, request_id, *framing = result  # type: ignore[misc]
    incoming = next((value for name, value in headers if name.lower() == b"x-request-id"), None)
    if request_id == incoming:
        return result
    return (head.replace(b"X-Request-ID: " + request_id + b"\r\n", b"X-Request-ID: <minted>\r\n"), b"<minted>", *framing)


def check(data: bytes) -> None:
    """Every header-policy call gives the same answer from both twins."""
    fdp = atheris.FuzzedDataProvider(data)
    websocket, trusted, underscores, keep_alive, http11, bodiless = (fdp.PickValueInList([False, True]) for _ in range(6))
    client, scheme, defaults = fdp.PickValueInList(CLIENTS), fdp.PickValueInList(SCHEMES), fdp.PickValueInList(DEFAULTS)
    allowlist_choice = fdp.ConsumeIntInRange(0, 3)
    max_bytes, max_count = fdp.ConsumeIntInRange(0, 0xFFFF), fdp.ConsumeIntInRange(0, 0xFF)
    method, target, version, headers, raw = split_request(fdp.ConsumeBytes(fdp.remaining_bytes()))
    allowlist = (None, frozenset(), frozenset({b"x-custom", b"x-other"}), frozenset(n.lower() for n, _ in headers) - KNOWN_NAMES)[allowlist_choice]
    lowered = [(name.lower(), value) for name, value in headers]
    hosts = [value for name, value in lowered if name == b"host"]

    calls: list[tuple[str, tuple[object, ...]]] = [
        ("target_problem", (target,)),
        *(("host_problem", (host,)) for host in hosts),
        ("head_problem", (target, lowered, version, max_bytes, max_count)),
        ("connection_tokens", (headers,)),
        ("upstream_request_headers", (headers, client, scheme, RID, websocket, trusted, allowlist, underscores)),
        ("downstream_response_headers", (headers, RID)),
        ("parse_response_head", (raw,)),
        ("downstream_head", (raw, RID, defaults, keep_alive, http11, bodiless)),
    ]
    pure, compiled = twins("headers")
    for name, args in calls:
        agree(f"{name}{args!r}", getattr(pure, name)(*args), getattr(compiled, name)(*args))
    args = (method, target, headers, client, scheme, websocket, trusted, allowlist, b"streamlit.internal:8501", underscores)
    agree(f"upstream_head{args!r}", *(without_minted_id(twin.upstream_head(*args), headers) for twin in (pure, compiled)))


if __name__ == "__main__":
    fuzz("headers", check)
