"""Header-policy kernel: request-head validation, and the twins agreeing on generated headers."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fluxlit._speedups.header_names import CLIENT_FORWARDING, HOP_BY_HOP, STREAMLIT_NEEDS, WEBSOCKET_HANDSHAKE, WITHHELD_CREDENTIALS
from tests.conftest import twin

RID = b"0123456789abcdef0123456789abcdef"
LIMITS = {"max_bytes": 32 * 1024, "max_count": 100}


@pytest.fixture
def kernel(implementation: str):
    return twin("headers", implementation)


def check(kernel, headers, version: str = "1.1", url: bytes = b"/", **limits):
    return kernel.head_problem(url, headers, version, **{**LIMITS, **limits})


def test_ordinary_head_passes(kernel) -> None:
    assert check(kernel, [(b"host", b"a"), (b"accept", b"*/*")]) is None
    assert check(kernel, [(b"accept", b"*/*")], "1.0") is None


@pytest.mark.parametrize(
    ("headers", "version", "status", "reason"),
    [
        ([(b"host", b"a"), (b"host", b"b")], "1.1", 400, "more than one Host"),
        ([(b"accept", b"*/*")], "1.1", 400, "without a Host"),
        ([(b"host", b"a"), (b"transfer-encoding", b"chunked")], "1.0", 400, "Transfer-Encoding on an HTTP/1.0"),
        ([(b"host", b"a"), (b"transfer-encoding", b"gzip, chunked")], "1.1", 400, "other than chunked"),
        ([(b"host", b"a")], "2.0", 400, "unsupported HTTP version 2.0"),
        ([(b"host", b"a"), (b"x-big", b"v" * 40000)], "1.1", 431, "FLUXLIT_GATEWAY_MAX_HEADER_BYTES"),
        ([(b"host", b"a")] + [(b"x-n", b"1")] * 100, "1.1", 431, "FLUXLIT_GATEWAY_MAX_HEADER_COUNT"),
    ],
)
def test_heads_that_must_not_be_served(kernel, headers, version: str, status: int, reason: str) -> None:
    problem = check(kernel, headers, version)
    assert problem is not None and problem[0] == status and reason in problem[1]


KNOWN = sorted(HOP_BY_HOP | CLIENT_FORWARDING | WEBSOCKET_HANDSHAKE | WITHHELD_CREDENTIALS | STREAMLIT_NEEDS) + [
    b"x-custom", b"proxy-foo", b"X-Forwarded-For", b"Host", b"accept-language", b"if-none-match", b"sec-fetch-mode",
]  # fmt: skip
names = st.one_of(st.sampled_from(KNOWN), st.binary(min_size=1, max_size=12))
values = st.one_of(
    st.sampled_from([b"", b"a", b"https", b"http, https", b"1.2.3.4, 5.6.7.8", b"keep-alive, x-custom", b"caf\xe9", "é".encode()]),
    st.binary(max_size=20),
)
header_lists = st.lists(st.tuples(names, values), max_size=20)


def outcome(kernel_name: str, call: str, *args):
    try:
        return getattr(twin("headers", kernel_name), call)(*args)
    except Exception as exc:  # noqa: BLE001 - the twins must fail alike too
        return type(exc).__name__


@settings(max_examples=400)
@given(
    header_lists,
    st.sampled_from([None, "127.0.0.1", "::1"]),
    st.sampled_from(["http", "https", "ws", "wss"]),
    st.booleans(),
    st.booleans(),
    st.sampled_from([None, frozenset(), frozenset({b"x-custom", b"x-other"})]),
)
def test_twins_agree_on_upstream_headers(headers, client, scheme, websocket, trusted, allowlist) -> None:
    args = (headers, client, scheme, RID, websocket, trusted, allowlist)
    assert outcome("pure", "upstream_request_headers", *args) == outcome("compiled", "upstream_request_headers", *args)


@given(header_lists)
def test_twins_agree_on_response_headers_and_connection_tokens(headers) -> None:
    for call, args in (("downstream_response_headers", (headers, RID)), ("connection_tokens", (headers,))):
        assert outcome("pure", call, *args) == outcome("compiled", call, *args)


@given(header_lists, st.sampled_from(["1.0", "1.1", "0.9", "2.0"]), st.integers(0, 300), st.integers(0, 25))
def test_twins_agree_on_head_problems(headers, version: str, max_bytes: int, max_count: int) -> None:
    lowered = [(n.lower(), v) for n, v in headers]
    args = (b"/path", lowered, version, max_bytes, max_count)
    assert outcome("pure", "head_problem", *args) == outcome("compiled", "head_problem", *args)
