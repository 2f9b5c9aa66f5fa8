"""Connection-level behaviour of the proxy in both lanes: pipelining order, HEAD, framing, upstream resets.

Raw sockets on one side, the recording upstream on the other (see support/upstream_server.py).
"""

import socket
import time
from collections.abc import Iterator

import httpx
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from tests.conftest import Gateway, running_gateway
from tests.support.raw_http import IO_TIMEOUT_S, new_tag, read_all, recorded, responses, send

pytestmark = pytest.mark.integration

@pytest.fixture(scope="module")
def gateway(recording_upstream: str, lane: str) -> Iterator[Gateway]:
    with running_gateway(env={"FLUXLIT_STREAMLIT_UPSTREAM": recording_upstream}, lane=lane) as running:
        yield running


def test_pipelined_requests_are_answered_in_order(gateway: Gateway, recording_upstream: str) -> None:
    first, second = new_tag(), new_tag()
    answers, ended = send(
        gateway,
        b"GET /record/%s?delay=0.3 HTTP/1.1\r\nHost: t\r\n\r\nGET /record/%s HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"
        % (first.encode(), second.encode()),
    )
    assert [status for status, _, _ in answers] == [200, 200] and ended == "fin"
    assert first.encode() not in answers[1][2] and b'"complete": true' in answers[0][2]
    assert recorded(recording_upstream, first) and recorded(recording_upstream, second)


def test_a_good_request_is_answered_before_the_400_for_garbage_behind_it(gateway: Gateway, recording_upstream: str) -> None:
    good, after = new_tag(), new_tag()
    answers, ended = send(
        gateway,
        b"GET /record/%s?delay=0.3 HTTP/1.1\r\nHost: t\r\n\r\nNOT HTTP AT ALL\r\n\r\nGET /record/%s HTTP/1.1\r\nHost: t\r\n\r\n"
        % (good.encode(), after.encode()),
    )
    assert [status for status, _, _ in answers] == [200, 400] and ended in ("fin", "reset")
    assert len(recorded(recording_upstream, good)) == 1
    assert recorded(recording_upstream, after) == []


def test_head_gets_the_headers_without_a_body_and_the_connection_stays_usable(gateway: Gateway) -> None:
    with socket.create_connection(("127.0.0.1", gateway.port), timeout=IO_TIMEOUT_S) as sock:
        sock.sendall(b"HEAD /bytes?n=5000 HTTP/1.1\r\nHost: t\r\n\r\n")
        head = b""
        while b"\r\n\r\n" not in head:
            head += sock.recv(65536)
        assert head.startswith(b"HTTP/1.1 200") and b"content-length: 5000" in head.lower()
        assert head.endswith(b"\r\n\r\n")
        sock.sendall(b"GET /echo/after-head HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        data, _ = read_all(sock)
    [(status, _, body)] = responses(data)
    assert status == 200 and b"/echo/after-head" in body


def test_a_chunked_response_reaches_an_http11_client_chunked_and_whole(gateway: Gateway) -> None:
    with httpx.stream("GET", gateway.url + "/chunked", params={"n": "5"}) as response:
        body = response.read()
    assert response.headers["transfer-encoding"] == "chunked" and "content-length" not in response.headers
    assert body == b"".join(b"piece-%d;" % k for k in range(5))


def test_an_http10_request_without_host_reaches_the_upstream_with_one(gateway: Gateway, recording_upstream: str) -> None:
    [(status, _, body)], ended = send(gateway, b"GET /echo/old HTTP/1.0\r\n\r\n")
    assert status == 200 and ended == "fin"
    hosts = [value for name, value in httpx.Response(200, content=body).json()["headers"] if name.lower() == "host"]
    assert hosts == [recording_upstream.removeprefix("http://")]


def test_an_upstream_reset_mid_response_never_looks_complete(gateway: Gateway) -> None:
    with socket.create_connection(("127.0.0.1", gateway.port), timeout=IO_TIMEOUT_S) as sock:
        sock.sendall(b"GET /reset-midway HTTP/1.1\r\nHost: t\r\n\r\n")
        started = time.monotonic()
        data, ended = read_all(sock)
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200") and b"content-length: 100000" in head.lower()
    assert len(body) < 100000 and ended in ("fin", "reset") and time.monotonic() - started < IO_TIMEOUT_S


def test_a_raw_non_ascii_byte_in_the_target_gets_400_not_a_server_error(gateway: Gateway) -> None:
    [(status, _, body)], _ = send(gateway, b"GET /echo/caf\xe9 HTTP/1.1\r\nHost: t\r\n\r\n")
    assert status == 400 and b"request id" in body


def test_a_websocket_whose_upstream_vanishes_is_closed_1011(gateway: Gateway) -> None:
    with connect(gateway.ws_url + "/ws") as ws:
        ws.send("hello")
        assert ws.recv(timeout=10) == "hello"
        ws.send("drop")
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=10)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1011
