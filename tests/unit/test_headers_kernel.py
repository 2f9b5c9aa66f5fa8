"""Header-policy kernel: request-head validation, the heads built for upstream and client, and the twins agreeing."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fluxlit._speedups.header_names import (
    CLIENT_FORWARDING,
    HOP_BY_HOP,
    OVERRIDE_AND_IDENTITY,
    STREAMLIT_NEEDS,
    WEBSOCKET_HANDSHAKE,
    WITHHELD_CREDENTIALS,
)
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


REFUSED_TARGETS = {
    b"/a/./b": "dot-segment", b"/a/../b": "dot-segment", b"/a/..": "dot-segment", b"/a/.": "dot-segment",
    b"/..": "dot-segment", b"/a/%2e%2e/b": "dot-segment", b"/a/%2E%2E/b": "dot-segment", b"/a/.%2e/b": "dot-segment",
    b"/a/%2e/b": "dot-segment", b"/a/..%2fb": "dot-segment", b"/a/%2e%2e%5cb": "dot-segment", b"/a%2f..%2fb": "dot-segment",
    b"/api/../x": "dot-segment", b"http://h/a/../b": "dot-segment", b"/a\\b": "backslash", b"/a/..\\b": "backslash",
    b"/a%00b": "encoded NUL", b"/a%00": "encoded NUL", b"//evil.example/x": "starts with //", b"//": "starts with //",
    b"h:443": "not a path", b"javascript:x": "not a path", b"": "not a path", b"/a#/../x": "fragment", b"/a#b": "fragment",
}  # fmt: skip
FORWARDED_TARGETS = [
    b"/", b"*", b"/a/b.c", b"/.well-known/x", b"/a..b/..c", b"/a%252e%252e/b", b"/a%2fb", b"/a%5cb", b"/a?x=/../..",
    b"/a?x=%00", b"/_stcore/stream", b"http://h/abs?q=1", b"http://h", b"/a/b/",
]  # fmt: skip


@pytest.mark.parametrize("url", REFUSED_TARGETS, ids=[u.decode("latin-1") for u in REFUSED_TARGETS])
def test_targets_that_mean_another_path_after_normalisation_are_refused(kernel, url: bytes) -> None:
    problem = check(kernel, [(b"host", b"a")], url=url)
    assert problem is not None and problem[0] == 400 and REFUSED_TARGETS[url] in problem[1]


@pytest.mark.parametrize("url", FORWARDED_TARGETS, ids=[u.decode() for u in FORWARDED_TARGETS])
def test_other_targets_pass(kernel, url: bytes) -> None:
    assert check(kernel, [(b"host", b"a")], url=url) is None


REFUSED_HOSTS = {
    b"a/b": "not host[:port]", b"user@a": "not host[:port]", b"a b": "not host[:port]", b"a\\b": "not host[:port]",
    b"a?b": "not host[:port]", b"a#b": "not host[:port]", "caf\u00e9".encode(): "not host[:port]",
    b"a:99999": "bad port", b"a:0": "bad port", b"a:": "bad port", b"a:x1": "bad port", b"a:80:80": "bad port",
    b"a:123456": "bad port", b"[::1": "IPv6", b"[zz]": "IPv6", b"[]": "IPv6", b"[::1]x": "IPv6", b"[::1]:0": "bad port",
}  # fmt: skip
ACCEPTED_HOSTS = [b"", b"a", b"a:8080", b"127.0.0.1:1", b"[::1]", b"[::1]:65535", b"xn--bcher-kva.example", b"a-b.c_d"]


@pytest.mark.parametrize("host", REFUSED_HOSTS, ids=[h.decode("latin-1") for h in REFUSED_HOSTS])
def test_a_host_that_is_not_host_and_port_is_refused(kernel, host: bytes) -> None:
    problem = check(kernel, [(b"host", host)])
    assert problem is not None and problem[0] == 400 and REFUSED_HOSTS[host] in problem[1]


@pytest.mark.parametrize("host", ACCEPTED_HOSTS, ids=[h.decode() for h in ACCEPTED_HOSTS])
def test_hosts_and_ports_pass(kernel, host: bytes) -> None:
    assert check(kernel, [(b"host", host)]) is None


def test_exactly_max_count_fields_pass(kernel) -> None:
    assert check(kernel, [(b"host", b"a")] + [(b"x-n", b"1")] * 99) is None


@settings(max_examples=400)
@given(
    st.one_of(
        st.binary(max_size=40),
        st.lists(st.sampled_from([b"/", b".", b"..", b"%2e", b"%2E", b"%2f", b"%5c", b"%00", b"\\", b"a", b"?", b"#", b"%"]),
                 max_size=10).map(b"".join),
    ),
    st.one_of(st.binary(max_size=20), st.lists(st.sampled_from([b"a", b":", b"[", b"]", b"1", b"0", b"@", b" "]), max_size=8).map(b"".join)),
)
def test_twins_agree_on_targets_and_hosts(url: bytes, host: bytes) -> None:
    for call, arg in (("target_problem", url), ("target_problem", b"/" + url), ("host_problem", host)):
        assert outcome("pure", call, arg) == outcome("compiled", call, arg)


KNOWN = sorted(HOP_BY_HOP | CLIENT_FORWARDING | OVERRIDE_AND_IDENTITY | WEBSOCKET_HANDSHAKE | WITHHELD_CREDENTIALS | STREAMLIT_NEEDS) + [
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


def upstream(kernel, headers, *, target: bytes = b"/", client: str | None = "203.0.113.9", scheme: str = "http",
             websocket: bool = False, trusted: bool = False, allowlist=None) -> tuple[bytes, bytes]:  # fmt: skip
    return kernel.upstream_head(b"GET", target, headers, client, scheme, websocket, trusted, allowlist, b"streamlit.internal:8501")[:2]


def raw_head(status: int, headers) -> bytes:
    """An upstream response head as it arrives on the wire."""
    return b"HTTP/1.1 %d Whatever\r\n" % status + b"".join(name + b": " + value + b"\r\n" for name, value in headers) + b"\r\n"


def downstream(kernel, status: int, headers, *, defaults: bytes = b"", http11: bool = True, keep_alive: bool = True,
               bodiless: bool = False) -> bytes:  # fmt: skip
    got, head, _, _ = kernel.downstream_head(raw_head(status, headers), RID, defaults, keep_alive, http11, bodiless)
    assert got == status
    return head


def parse(head: bytes) -> tuple[bytes, list[tuple[bytes, ...]]]:
    """The first line and the fields of a head, which must end with exactly one blank line."""
    assert head.endswith(b"\r\n\r\n") and head.count(b"\r\n\r\n") == 1
    first, *lines = head[:-4].split(b"\r\n")
    return first, [tuple(line.split(b": ", 1)) for line in lines]


def field(head: bytes, name: bytes) -> list[bytes]:
    """Every value of the field ``name`` (any case), in order."""
    return [value for key, value in parse(head)[1] if key.lower() == name]


def test_upstream_head_sends_the_request_target_byte_for_byte(kernel) -> None:
    head, _ = upstream(kernel, [(b"host", b"a")], target=b"/a%252e?x=%20y")
    assert parse(head)[0] == b"GET /a%252e?x=%20y HTTP/1.1"


def test_upstream_head_sends_only_the_first_host(kernel) -> None:
    head, _ = upstream(kernel, [(b"host", b"a"), (b"Host", b"b")])
    assert field(head, b"host") == [b"a"]


def test_upstream_head_adds_the_default_host_when_the_client_sent_none(kernel) -> None:
    head, _ = upstream(kernel, [(b"accept", b"*/*")])
    assert field(head, b"host") == [b"streamlit.internal:8501"]


def test_upstream_head_drops_hop_by_hop_and_connection_named_headers(kernel) -> None:
    head, _ = upstream(
        kernel,
        [(b"host", b"h"), (b"connection", b"keep-alive, X-Secret-Hop"), (b"x-secret-hop", b"1"), (b"keep-alive", b"timeout=5"),
         (b"te", b"trailers"), (b"transfer-encoding", b"chunked"), (b"upgrade", b"h2c"), (b"expect", b"100-continue"),
         (b"http2-settings", b"AAA"), (b"accept", b"*/*")],
    )  # fmt: skip
    names = [name.lower() for name, _ in parse(head)[1]]
    # The client's Transfer-Encoding is dropped; the gateway re-frames the body and says so last.
    assert names == [b"host", b"accept", b"x-forwarded-for", b"x-forwarded-proto", b"x-forwarded-host", b"x-request-id", b"transfer-encoding"]


def test_upstream_head_replaces_untrusted_forwarding_headers_with_the_socket(kernel) -> None:
    spoofed = [(b"x-forwarded-for", b"6.6.6.6"), (b"x-forwarded-proto", b"https"), (b"x-forwarded-host", b"evil"),
               (b"forwarded", b"for=6.6.6.6"), (b"x-real-ip", b"6.6.6.6"), (b"x-scheme", b"https")]  # fmt: skip
    head, _ = upstream(kernel, [(b"host", b"example.org"), *spoofed], client="10.1.2.3")
    assert field(head, b"x-forwarded-for") == [b"10.1.2.3"]
    assert field(head, b"x-forwarded-proto") == [b"http"] and field(head, b"x-forwarded-host") == [b"example.org"]
    assert not field(head, b"forwarded") and not field(head, b"x-real-ip") and not field(head, b"x-scheme")
    assert b"6.6.6.6" not in head and b"evil" not in head


def test_upstream_head_extends_a_trusted_proxys_chain(kernel) -> None:
    claims = [(b"x-forwarded-for", b"1.1.1.1, 2.2.2.2"), (b"x-forwarded-proto", b"https"), (b"x-forwarded-host", b"public.example")]
    head, _ = upstream(kernel, [(b"host", b"internal"), *claims], client="10.0.0.1", trusted=True)
    assert field(head, b"x-forwarded-for") == [b"1.1.1.1, 2.2.2.2, 10.0.0.1"]
    assert field(head, b"x-forwarded-proto") == [b"https"] and field(head, b"x-forwarded-host") == [b"public.example"]


def test_upstream_head_keeps_and_returns_a_valid_client_request_id(kernel) -> None:
    head, request_id = upstream(kernel, [(b"host", b"h"), (b"x-request-id", b"client-42")])
    assert request_id == b"client-42" and field(head, b"x-request-id") == [b"client-42"]


@pytest.mark.parametrize("incoming", [b"has space", b"a" * 200, b"a\r\nx-evil: 1", None])
def test_upstream_head_mints_a_request_id_for_an_invalid_or_missing_one(kernel, incoming: bytes | None) -> None:
    headers = [(b"host", b"h")] + ([(b"x-request-id", incoming)] if incoming is not None else [])
    head, request_id = upstream(kernel, headers)
    assert len(request_id) == 32 and set(request_id) <= set(b"0123456789abcdef")
    assert field(head, b"x-request-id") == [request_id]


def test_websocket_upgrade_keeps_its_handshake_past_the_allowlist(kernel) -> None:
    handshake = [(b"sec-websocket-key", b"dGhlIHNhbXBsZSBub25jZQ=="), (b"sec-websocket-version", b"13"),
                 (b"sec-websocket-protocol", b"streamlit"), (b"sec-websocket-extensions", b"permessage-deflate")]  # fmt: skip
    headers = [(b"host", b"h"), (b"connection", b"Upgrade"), (b"upgrade", b"websocket"), *handshake, (b"x-other", b"1")]
    head, _ = upstream(kernel, headers, scheme="ws", websocket=True, allowlist=frozenset({b"x-custom"}))
    fields = parse(head)[1]
    assert all(pair in fields for pair in handshake)
    assert field(head, b"connection") == [b"Upgrade"] and field(head, b"upgrade") == [b"websocket"]
    assert not field(head, b"x-other")


def test_a_chunked_body_is_announced_once_whatever_the_client_sent(kernel) -> None:
    head, _ = upstream(kernel, [(b"host", b"h"), (b"transfer-encoding", b"gzip, chunked")])
    assert field(head, b"transfer-encoding") == [b"chunked"]
    plain, _ = upstream(kernel, [(b"host", b"h"), (b"content-length", b"3")])
    assert not field(plain, b"transfer-encoding") and field(plain, b"content-length") == [b"3"]


@pytest.mark.parametrize(
    ("headers", "framing"),
    [
        ([], (0, False)),
        ([(b"content-length", b"0")], (0, False)),
        ([(b"Content-Length", b"1234")], (1234, False)),
        ([(b"transfer-encoding", b"chunked")], (-1, False)),
        ([(b"content-length", b"5"), (b"expect", b"100-Continue")], (5, True)),
        ([(b"expect", b"something-else")], (0, False)),
    ],
    ids=["none", "empty", "length", "chunked", "expect-continue", "other-expect"],
)
def test_upstream_head_reports_the_body_framing_and_expect(kernel, headers, framing: tuple[int, bool]) -> None:
    result = kernel.upstream_head(b"POST", b"/", [(b"host", b"h"), *headers], None, "http", False, False, None, b"d")
    assert result[2:] == framing


def test_upstream_head_drops_override_and_identity_headers_whoever_sends_them(kernel) -> None:
    sent = [(b"host", b"a"), *((name, b"/admin") for name in sorted(OVERRIDE_AND_IDENTITY)), (b"x-kept", b"1")]
    for trusted in (False, True):
        head, _ = upstream(kernel, sent, trusted=trusted, allowlist=OVERRIDE_AND_IDENTITY | {b"x-kept"})
        names = {key.lower() for key, *_ in parse(head)[1]}
        assert not names & OVERRIDE_AND_IDENTITY and b"x-kept" in names


def test_header_names_with_underscores_are_dropped_unless_allowed(kernel) -> None:
    sent = [(b"host", b"a"), (b"content_length", b"5"), (b"x_forwarded_for", b"6.6.6.6"), (b"x-dash", b"1")]
    dropped = kernel.upstream_head(b"GET", b"/", sent, "203.0.113.9", "http", False, False, None, b"d", False)[0]
    kept = kernel.upstream_head(b"GET", b"/", sent, "203.0.113.9", "http", False, False, None, b"d", True)[0]
    assert b"_" not in dropped and b"x-dash: 1" in dropped
    assert b"content_length: 5" in kept and b"x_forwarded_for: 6.6.6.6" in kept
    listed = kernel.upstream_request_headers(sent, None, "http", RID, False, False, None)
    assert [name for name, _ in listed if "_" in name] == []


def test_upstream_head_withholds_credentials_streamlit_has_no_use_for(kernel) -> None:
    credentials = [(b"authorization", b"Bearer t"), (b"x-api-key", b"k"), (b"proxy-authorization", b"Basic x"), (b"proxy-foo", b"1")]
    head, _ = upstream(kernel, [(b"host", b"h"), *credentials, (b"cookie", b"session=1")])
    assert field(head, b"cookie") == [b"session=1"]
    assert not any(field(head, name) for name, _ in credentials)


def test_response_status_line_carries_the_standard_phrase_then_the_defaults(kernel) -> None:
    defaults = b"date: Thu, 01 Jan 2026 00:00:00 GMT\r\n"
    head = downstream(kernel, 404, [(b"content-length", b"0")], defaults=defaults)
    assert head.startswith(b"HTTP/1.1 404 Not Found\r\n" + defaults + b"content-length: 0\r\n")


def test_response_head_drops_hop_by_hop_and_server_owned_fields_and_lower_cases_names(kernel) -> None:
    headers = [(b"Content-Type", b"text/html"), (b"Connection", b"keep-alive, X-Hop"), (b"X-Hop", b"1"), (b"Keep-Alive", b"timeout=5"),
               (b"Transfer-Encoding", b"chunked"), (b"Date", b"then"), (b"Server", b"TornadoServer"),
               (b"X-Request-ID", b"upstream-id"), (b"Set-Cookie", b"a=1")]  # fmt: skip
    status, fields = parse(downstream(kernel, 200, headers))
    assert status == b"HTTP/1.1 200 OK"
    # The chunked body is re-framed by the gateway, which says so itself after the request id.
    assert fields == [(b"content-type", b"text/html"), (b"set-cookie", b"a=1"), (b"x-request-id", RID), (b"transfer-encoding", b"chunked")]


def framing(kernel, status: int, headers, **options) -> tuple[bool, bool, list[bytes], list[bytes]]:
    """``chunked``, ``keep_alive`` and the head's transfer-encoding and connection fields."""
    defaults = {"keep_alive": True, "http11": True, "bodiless": False} | options
    _, head, chunked, keep_alive = kernel.downstream_head(raw_head(status, headers), RID, b"", defaults["keep_alive"],
                                                          defaults["http11"], defaults["bodiless"])  # fmt: skip
    return chunked, keep_alive, field(head, b"transfer-encoding"), field(head, b"connection")


def test_a_body_with_a_length_is_passed_as_it_is(kernel) -> None:
    assert framing(kernel, 200, [(b"Content-Length", b"5")]) == (False, True, [], [])


@pytest.mark.parametrize("headers", [[(b"Transfer-Encoding", b"chunked")], []], ids=["chunked", "delimited-by-close"])
def test_a_body_without_a_length_is_chunked_for_http11_and_closes_for_http10(kernel, headers) -> None:
    assert framing(kernel, 200, headers) == (True, True, [b"chunked"], [])
    assert framing(kernel, 200, headers, http11=False) == (False, False, [], [b"close"])


@pytest.mark.parametrize(("status", "bodiless"), [(204, False), (304, False), (200, True)], ids=["204", "304", "head-request"])
def test_answers_without_a_body_get_no_framing(kernel, status: int, bodiless: bool) -> None:
    assert framing(kernel, status, [(b"Transfer-Encoding", b"chunked")], bodiless=bodiless) == (False, True, [], [])


def test_a_client_that_closes_gets_connection_close(kernel) -> None:
    assert framing(kernel, 200, [(b"Content-Length", b"0")], keep_alive=False)[3] == [b"close"]


@pytest.mark.parametrize(
    "raw",
    [b"HTTP/1.1 2x0 OK\r\n\r\n", b"HTTP/2 200\r\n\r\n", b"HTTP/1.1 200 OK\r\n bad: fold\r\n\r\n", b"HTTP/1.1 200 OK\r\nno-colon\r\n\r\n"],
)
def test_a_malformed_upstream_head_is_reported_as_status_0(kernel, raw: bytes) -> None:
    assert kernel.downstream_head(raw, RID, b"", True, True, False) == (0, b"", False, False)


def test_switching_protocols_keeps_the_handshake_and_never_closes(kernel) -> None:
    handshake = [(b"sec-websocket-accept", b"s3pPLMBiTxaQ9kYGzzhZRbK+xOo="), (b"sec-websocket-protocol", b"streamlit"),
                 (b"sec-websocket-extensions", b"permessage-deflate")]  # fmt: skip
    headers = [(b"Upgrade", b"websocket"), (b"Connection", b"Upgrade"), *((n.title(), v) for n, v in handshake)]
    head = downstream(kernel, 101, headers, keep_alive=False)
    assert parse(head)[0] == b"HTTP/1.1 101 Switching Protocols"
    assert all(pair in parse(head)[1] for pair in handshake)
    assert field(head, b"connection") == [b"upgrade"] and field(head, b"upgrade") == [b"websocket"]
    assert not field(head, b"transfer-encoding")


def upstream_outcome(kernel_name: str, args: tuple):
    """``upstream_head``'s result with a minted request id (random by design) replaced by a marker."""
    result = outcome(kernel_name, "upstream_head", *args)
    if isinstance(result, str):
        return result
    head, request_id, *framing = result
    incoming = next((value for name, value in args[2] if name.lower() == b"x-request-id"), None)
    if request_id == incoming:
        return result
    return head.replace(b"\r\nX-Request-ID: " + request_id + b"\r\n", b"\r\nX-Request-ID: <minted>\r\n"), b"<minted>", *framing


request_ids = st.one_of(st.just(b"client-42"), st.binary(max_size=12), st.just(b"r" * 129))


@settings(max_examples=400)
@given(
    header_lists,
    st.one_of(st.none(), request_ids),
    st.sampled_from([b"/", b"/a%252e?x=%20y", b"*", b"http://h/abs"]),
    st.sampled_from([None, "127.0.0.1", "::1"]),
    st.sampled_from(["http", "https", "ws", "wss"]),
    st.booleans(),
    st.booleans(),
    st.sampled_from([None, frozenset(), frozenset({b"x-custom", b"x-other"})]),
    st.booleans(),
)
def test_twins_agree_on_upstream_heads(headers, incoming, target, client, scheme, websocket, trusted, allowlist, underscores) -> None:
    if incoming is not None:
        headers = [*headers, (b"X-Request-ID", incoming)]
    args = (b"GET", target, headers, client, scheme, websocket, trusted, allowlist, b"fallback:8501", underscores)
    assert upstream_outcome("pure", args) == upstream_outcome("compiled", args)


@settings(max_examples=400)
@given(
    st.one_of(
        st.builds(raw_head, st.one_of(st.sampled_from([101, 200, 204, 304, 404, 500]), st.integers(100, 999)), header_lists),
        st.binary(max_size=80).map(lambda b: b"HTTP/1.1 200 OK\r\n" + b + b"\r\n\r\n"),
        st.binary(max_size=60),
    ),
    st.sampled_from([b"", b"date: Thu, 01 Jan 2026 00:00:00 GMT\r\n"]),
    st.booleans(),
    st.booleans(),
    st.booleans(),
)
def test_twins_agree_on_response_heads(raw: bytes, defaults: bytes, keep_alive: bool, http11: bool, bodiless: bool) -> None:
    args = (raw, RID, defaults, keep_alive, http11, bodiless)
    assert outcome("pure", "downstream_head", *args) == outcome("compiled", "downstream_head", *args)
