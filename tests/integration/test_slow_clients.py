"""Slow clients and a bounded upstream, in both lanes.

A body that trickles holds no upstream connection (the gateway reads up to 64 KiB before it takes
one), a stalled or too-slow body is cut off with 408, and requests beyond the upstream connection
bound wait, then get 503; none of this denies service to anyone else.
"""

import concurrent.futures
import socket
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.conftest import Gateway, running_gateway
from tests.support.raw_http import new_tag, recorded, settled

pytestmark = pytest.mark.integration

BODY_TIMEOUT_S = 6.0
SLOW_UPLOADS = 1000
MAX_CONNECTIONS = 4
CONNECT_TIMEOUT_S = 1.0


@pytest.fixture(scope="module")
def patient_gateway(recording_upstream: str, lane: str) -> Iterator[Gateway]:
    env = {
        "FLUXLIT_STREAMLIT_UPSTREAM": recording_upstream,
        "FLUXLIT_GATEWAY_BODY_READ_TIMEOUT_S": str(BODY_TIMEOUT_S),
        "FLUXLIT_GATEWAY_UPSTREAM_MAX_CONNECTIONS": str(MAX_CONNECTIONS),
        "FLUXLIT_GATEWAY_UPSTREAM_CONNECT_TIMEOUT_S": str(CONNECT_TIMEOUT_S),
    }
    with running_gateway(env=env, lane=lane) as gateway:
        yield gateway


def start_upload(gateway: Gateway, tag: str, *, declared: int = 1000, sent: bytes = b"0123456789") -> socket.socket:
    """A POST that declares ``declared`` bytes and sends ``sent`` of them."""
    sock = socket.create_connection(("127.0.0.1", gateway.port), timeout=60)
    sock.sendall(f"POST /record/{tag} HTTP/1.1\r\nHost: t\r\nContent-Length: {declared}\r\n\r\n".encode() + sent)
    return sock


def reply_to(sock: socket.socket) -> bytes:
    """Everything until the gateway closes."""
    reply = b""
    while chunk := sock.recv(4096):
        reply += chunk
    return reply


def test_a_stalled_small_body_gets_408_and_never_reaches_the_upstream(patient_gateway, recording_upstream) -> None:
    tag = new_tag()
    with start_upload(patient_gateway, tag) as sock:
        reply = reply_to(sock)
    assert reply.startswith(b"HTTP/1.1 408") and b"FLUXLIT_GATEWAY_BODY_READ_TIMEOUT_S" in reply
    assert recorded(recording_upstream, tag) == []


def test_a_stalled_large_body_gets_408_and_the_upstream_never_sees_it_complete(patient_gateway, recording_upstream) -> None:
    tag = new_tag()
    with start_upload(patient_gateway, tag, declared=400_000, sent=b"x" * 200_000) as sock:
        reply = reply_to(sock)
    assert reply.startswith(b"HTTP/1.1 408")
    [record] = settled(recording_upstream, tag)
    assert record["complete"] is False and record["body_size"] < 400_000


def test_a_body_trickling_under_the_minimum_rate_gets_408(patient_gateway, recording_upstream) -> None:
    tag = new_tag()
    with start_upload(patient_gateway, tag, sent=b"") as sock:
        # 2 bytes a second: never a pause, but far under the default 1024 bytes/s once the grace window is over.
        try:
            for _ in range(60):
                sock.sendall(b"x")
                time.sleep(0.5)
        except (BrokenPipeError, ConnectionResetError):
            pass
        reply = reply_to(sock)
    assert reply.startswith(b"HTTP/1.1 408") and b"FLUXLIT_GATEWAY_MIN_BODY_RATE_BPS" in reply
    assert recorded(recording_upstream, tag) == []


def test_a_thousand_slow_uploads_do_not_deny_service_or_reach_the_upstream(patient_gateway, recording_upstream) -> None:
    uploads = []
    tags = [new_tag() for _ in range(SLOW_UPLOADS)]
    try:
        for tag in tags:
            uploads.append(start_upload(patient_gateway, tag))
        with httpx.Client(timeout=5) as client:
            for _ in range(20):
                assert client.get(patient_gateway.url + "/echo/normal").status_code == 200
                assert client.get(patient_gateway.url + "/api/hello").json() == {"hello": "world"}
    finally:
        for sock in uploads:
            sock.close()
    assert all(recorded(recording_upstream, tag) == [] for tag in tags[:: SLOW_UPLOADS // 20])


def test_requests_beyond_the_upstream_bound_wait_then_get_503(patient_gateway, recording_upstream) -> None:
    httpx.get(f"{recording_upstream}/peak")  # reset the upstream's high-water mark
    with httpx.Client(timeout=30) as client, concurrent.futures.ThreadPoolExecutor(3 * MAX_CONNECTIONS) as pool:
        # Each holds an upstream connection for 2 s; only the first MAX_CONNECTIONS fit in the 1 s wait.
        answers = list(pool.map(lambda _: client.get(f"{patient_gateway.url}/slow?s=2"), range(3 * MAX_CONNECTIONS)))
        statuses = sorted(answer.status_code for answer in answers)
        assert statuses.count(200) >= MAX_CONNECTIONS and set(statuses) <= {200, 503} and 503 in statuses
        busy = next(answer for answer in answers if answer.status_code == 503)
        assert b"FLUXLIT_GATEWAY_UPSTREAM_MAX_CONNECTIONS" in busy.content
        assert busy.headers["x-request-id"] in busy.text
        assert client.get(f"{patient_gateway.url}/echo/after").status_code == 200
    assert httpx.get(f"{recording_upstream}/peak").json() <= MAX_CONNECTIONS
