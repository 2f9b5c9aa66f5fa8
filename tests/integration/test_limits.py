"""Limits and malformed requests under ``fluxlit run``, sent over raw sockets and checked at the upstream.

Every error path is asserted twice: by what the client got back and by what the recording upstream
received (``/recorded/TAG`` lists each request that reached it, with its body size and whether the
body arrived complete).
"""

import socket
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.conftest import Gateway, running_gateway
from tests.support.raw_http import IO_TIMEOUT_S, Reply, complete, exchange, new_tag, read_reply, recorded, settled, upstream_header_names

pytestmark = pytest.mark.integration

CAP = 1024 * 1024
HEADER_DEADLINE_S = 1.0
CHUNK = b"\xab" * (256 * 1024)


@pytest.fixture(scope="module")
def limited_gateway(recording_upstream: str, lane: str) -> Iterator[Gateway]:
    """``fluxlit run`` in front of the recording upstream with a 1 MiB body cap, a 1 s header deadline and metrics."""
    with running_gateway(
            env={
                "FLUXLIT_STREAMLIT_UPSTREAM": recording_upstream,
                "FLUXLIT_ENABLE_GATEWAY_PROMETHEUS_METRICS": "1",
                "FLUXLIT_GATEWAY_MAX_PROXY_REQUEST_BODY_BYTES": str(CAP),
                "FLUXLIT_GATEWAY_HEADER_READ_TIMEOUT_S": str(HEADER_DEADLINE_S),
            },
            lane=lane,
        ) as gateway:
        yield gateway


def chunked(size: int) -> list[bytes]:
    """A chunked body of ``size`` bytes in 256 KiB chunks, terminator included."""
    parts = []
    while size > 0:
        piece = CHUNK[: min(size, len(CHUNK))]
        parts.append(b"%x\r\n%s\r\n" % (len(piece), piece))
        size -= len(piece)
    return [*parts, b"0\r\n\r\n"]


def test_declared_body_over_cap_gets_413_without_contacting_upstream(limited_gateway, recording_upstream) -> None:
    tag = new_tag()
    reply = exchange(limited_gateway, b"POST /record/%s HTTP/1.1\r\nHost: t\r\nContent-Length: %d\r\n\r\n" % (tag.encode(), CAP + 1))
    assert reply.status == 413 and reply.closed
    assert reply.headers["x-request-id"].encode() in reply.body
    assert b"FLUXLIT_GATEWAY_MAX_PROXY_REQUEST_BODY_BYTES" in reply.body
    assert recorded(recording_upstream, tag) == []


def test_chunked_body_over_cap_gets_413_and_upstream_never_sees_it_complete(limited_gateway, recording_upstream) -> None:
    tag = new_tag()
    head = b"POST /record/%s HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n" % tag.encode()
    reply = exchange(limited_gateway, head, *chunked(CAP + len(CHUNK)))
    assert reply.status == 413 and reply.closed
    assert reply.headers["x-request-id"].encode() in reply.body
    for record in settled(recording_upstream, tag):
        assert not record["complete"] and record["body_size"] <= CAP


def test_chunked_body_exactly_at_cap_is_forwarded_whole(limited_gateway, recording_upstream) -> None:
    tag = new_tag()
    head = b"POST /record/%s HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n" % tag.encode()
    reply = exchange(limited_gateway, head, *chunked(CAP))
    assert reply.status == 200
    assert settled(recording_upstream, tag) == [reply.json()]
    assert reply.json()["complete"] and reply.json()["body_size"] == CAP


def _body_limit_rejections(gateway: Gateway) -> float:
    for line in httpx.get(gateway.url + "/__fluxlit/metrics").text.splitlines():
        if line.startswith("fluxlit_gateway_body_limit_rejections_total "):
            return float(line.split()[1])
    raise AssertionError("no body-limit rejection counter in the metrics")


def test_body_cap_rejections_are_counted_in_metrics(limited_gateway) -> None:
    before = _body_limit_rejections(limited_gateway)
    reply = exchange(limited_gateway, b"POST /record/%s HTTP/1.1\r\nHost: t\r\nContent-Length: %d\r\n\r\n" % (new_tag().encode(), CAP + 1))
    assert reply.status == 413
    assert _body_limit_rejections(limited_gateway) == before + 1


def test_body_cap_applies_to_proxied_requests_only(limited_gateway) -> None:
    response = httpx.post(limited_gateway.url + "/api/hello", content=b"x" * (CAP + 1))
    assert response.status_code == 405  # FastAPI's answer: the gateway did not stop it


def test_malformed_chunk_mid_body_aborts_the_upstream_request(limited_gateway, recording_upstream) -> None:
    tag = new_tag()
    head = b"POST /record/%s HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n" % tag.encode()
    first = b"%x\r\n%s\r\n" % (len(CHUNK), CHUNK)
    # Make sure the first chunk is on its way upstream before the garbage arrives.
    with socket.create_connection(("127.0.0.1", limited_gateway.port), timeout=IO_TIMEOUT_S) as sock:
        sock.sendall(head + first)
        deadline = time.monotonic() + IO_TIMEOUT_S
        while not recorded(recording_upstream, tag):
            assert time.monotonic() < deadline, "the request never reached the upstream"
            time.sleep(0.05)
        sock.sendall(b"zz\r\nnot a chunk\r\n0\r\n\r\n")
        reply = read_reply(sock)
    assert reply.status == 400 and reply.closed
    [record] = settled(recording_upstream, tag)
    assert not record["complete"]


AMBIGUOUS = {
    "content-length-and-transfer-encoding": b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    "transfer-encoding-and-content-length": b"Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n",
    "duplicate-content-length": b"Content-Length: 5\r\nContent-Length: 5\r\n\r\nhello",
    "conflicting-content-length": b"Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!",
    "duplicate-host": b"Host: other\r\n\r\n",
    "transfer-encoding-not-chunked": b"Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
    "space-in-header-name": b"X Bad: 1\r\n\r\n",
    "space-before-colon": b"X-Bad : 1\r\n\r\n",
    "non-token-header-name": "X-\u00e9: 1\r\n\r\n".encode(),
    "nul-in-header-value": b"X-Bad: a\x00b\r\n\r\n",
    "control-byte-in-header-value": b"X-Bad: a\x01b\r\n\r\n",
    "bare-cr-in-header-value": b"X-Bad: a\rb\r\n\r\n",
    "obsolete-line-folding": b"X-Bad: a\r\n b\r\n\r\n",
}


@pytest.mark.parametrize("rest", AMBIGUOUS.values(), ids=AMBIGUOUS.keys())
def test_ambiguous_or_malformed_request_gets_400_and_is_never_forwarded(limited_gateway, recording_upstream, rest: bytes) -> None:
    tag = new_tag()
    reply = exchange(limited_gateway, b"POST /record/%s HTTP/1.1\r\nHost: t\r\n%s" % (tag.encode(), rest))
    assert reply.status == 400 and reply.closed
    assert reply.headers["x-request-id"].encode() in reply.body
    assert recorded(recording_upstream, tag) == []


@pytest.mark.parametrize(
    "request_line_and_headers",
    [
        b"POST /record/%s HTTP/1.0\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
        b"GET /record/%s HTTP/1.1\r\nX-No-Host: 1\r\n\r\n",
    ],
    ids=["transfer-encoding-on-http-1.0", "http-1.1-without-host"],
)
def test_framing_that_depends_on_the_version_gets_400(limited_gateway, recording_upstream, request_line_and_headers: bytes) -> None:
    tag = new_tag()
    reply = exchange(limited_gateway, request_line_and_headers % tag.encode())
    assert reply.status == 400 and reply.closed
    assert recorded(recording_upstream, tag) == []


def test_oversized_header_block_gets_431(limited_gateway, recording_upstream) -> None:
    tag = new_tag()
    reply = exchange(limited_gateway, b"GET /record/%s HTTP/1.1\r\nHost: t\r\nX-Big: %s\r\n\r\n" % (tag.encode(), b"a" * 33_000))
    assert reply.status == 431 and reply.closed
    assert b"FLUXLIT_GATEWAY_MAX_HEADER_BYTES" in reply.body
    assert recorded(recording_upstream, tag) == []


def test_header_block_that_never_ends_gets_431_before_it_is_buffered(limited_gateway, recording_upstream) -> None:
    tag = new_tag()
    # One endless header value in many writes: the parser would keep concatenating it.
    parts = [b"GET /record/%s HTTP/1.1\r\nHost: t\r\nX-Endless: " % tag.encode(), *([b"a" * 4096] * 64)]
    reply = exchange(limited_gateway, *parts)
    assert reply.status == 431 and reply.closed
    assert recorded(recording_upstream, tag) == []


def test_too_many_header_fields_get_431(limited_gateway, recording_upstream) -> None:
    tag = new_tag()
    fields = b"".join(b"X-F%d: 1\r\n" % i for i in range(101))
    reply = exchange(limited_gateway, b"GET /record/%s HTTP/1.1\r\nHost: t\r\n%s\r\n" % (tag.encode(), fields))
    assert reply.status == 431 and reply.closed
    assert b"FLUXLIT_GATEWAY_MAX_HEADER_COUNT" in reply.body
    assert recorded(recording_upstream, tag) == []


def _trickle(sock: socket.socket, lines: Iterator[bytes]) -> None:
    # Send one header line at a time until the server gives up on us (bounded by the loop).
    try:
        for line in lines:
            sock.sendall(line)
            time.sleep(HEADER_DEADLINE_S / 5)
    except (BrokenPipeError, ConnectionResetError):
        pass


def test_slow_header_sender_gets_408_and_is_closed(limited_gateway, recording_upstream) -> None:
    tag = new_tag()
    with socket.create_connection(("127.0.0.1", limited_gateway.port), timeout=IO_TIMEOUT_S) as sock:
        sock.sendall(b"GET /record/%s HTTP/1.1\r\nHost: t\r\n" % tag.encode())
        _trickle(sock, (b"X-Slow-%d: 1\r\n" % i for i in range(60)))
        reply = read_reply(sock)
    assert reply.status == 408 and reply.closed
    assert b"FLUXLIT_GATEWAY_HEADER_READ_TIMEOUT_S" in reply.body
    assert recorded(recording_upstream, tag) == []


def test_connection_that_sends_nothing_is_closed(limited_gateway) -> None:
    with socket.create_connection(("127.0.0.1", limited_gateway.port), timeout=IO_TIMEOUT_S) as sock:
        assert sock.recv(1024) == b""


def test_header_deadline_restarts_after_each_response(limited_gateway, recording_upstream) -> None:
    first, second = new_tag(), new_tag()
    with socket.create_connection(("127.0.0.1", limited_gateway.port), timeout=IO_TIMEOUT_S) as sock:
        sock.sendall(b"GET /record/%s HTTP/1.1\r\nHost: t\r\n\r\n" % first.encode())
        data = b""
        while not complete(data):
            data += sock.recv(65536)
        assert Reply(data, False).status == 200
        sock.sendall(b"GET /record/%s HTTP/1.1\r\nHost: t\r\n" % second.encode())
        _trickle(sock, (b"X-Slow-%d: 1\r\n" % i for i in range(60)))
        reply = read_reply(sock)
    assert reply.status == 408 and reply.closed
    assert len(recorded(recording_upstream, first)) == 1 and recorded(recording_upstream, second) == []


def test_chunked_trailers_are_dropped_not_turned_into_headers(limited_gateway, recording_upstream) -> None:
    tag = new_tag()
    request = (
        b"POST /record/%s HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
        b"3\r\nabc\r\n0\r\nX-Trailer-Injected: evil\r\nX-Forwarded-For: 6.6.6.6\r\n\r\n"
    ) % tag.encode()
    reply = exchange(limited_gateway, request)
    assert reply.status == 200
    [record] = settled(recording_upstream, tag)
    assert record["complete"] and record["body_size"] == 3
    assert "x-trailer-injected" not in upstream_header_names(record)
    assert dict((k.lower(), v) for k, v in record["headers"])["x-forwarded-for"] == "127.0.0.1"


def _echo(gateway: Gateway, head: bytes, body: bytes = b"") -> Reply:
    return exchange(gateway, head + b"Host: t\r\nConnection: close\r\n\r\n" + body)


def test_non_ascii_header_value_is_forwarded_byte_for_byte(limited_gateway) -> None:
    value = "h\u00e9llo \u2603".encode()
    reply = _echo(limited_gateway, b"GET /echo/odd HTTP/1.1\r\nX-Odd: %s\r\n" % value)
    assert reply.status == 200
    seen = {name.lower(): v.encode("latin-1") for name, v in reply.json()["headers"]}
    assert seen["x-odd"] == value


def test_a_header_value_that_is_not_utf8_gets_400_not_a_server_error(limited_gateway) -> None:
    reply = _echo(limited_gateway, b"GET /echo/odd HTTP/1.1\r\nX-Odd: caf\xe9\r\n")
    assert reply.status == 400 and reply.closed and b"X-Odd header's value is not UTF-8".lower() in reply.body.lower()


def test_trailing_spaces_in_header_value_are_harmless(limited_gateway) -> None:
    reply = _echo(limited_gateway, b"GET /echo/odd HTTP/1.1\r\nX-Odd: 1   \r\n")
    assert reply.status == 200
    seen = {name.lower(): v for name, v in reply.json()["headers"]}
    assert seen["x-odd"].strip() == "1"


def test_get_with_a_body_is_forwarded_with_its_body(limited_gateway) -> None:
    reply = _echo(limited_gateway, b"GET /echo/odd HTTP/1.1\r\nContent-Length: 3\r\n", b"abc")
    assert reply.status == 200 and reply.json()["body_size"] == 3


def test_encoded_nul_in_path_gets_400(limited_gateway) -> None:
    reply = _echo(limited_gateway, b"GET /echo/a%00b HTTP/1.1\r\n")
    assert reply.status == 400 and reply.closed and b"%00" in reply.body


def test_raw_nul_in_path_gets_400(limited_gateway) -> None:
    reply = _echo(limited_gateway, b"GET /echo/a\x00b HTTP/1.1\r\n")
    assert reply.status == 400 and reply.closed
