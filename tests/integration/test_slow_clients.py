"""Slow clients: a stalled body is cut off, and a thousand slow uploads do not starve anyone else."""

import socket
import time
import uuid
from collections.abc import Iterator

import httpx
import pytest

from tests.conftest import Gateway, running_gateway

pytestmark = pytest.mark.integration

BODY_TIMEOUT_S = 6.0
SLOW_UPLOADS = 1000


@pytest.fixture(scope="module")
def patient_gateway(recording_upstream: str, lane: str) -> Iterator[Gateway]:
    with running_gateway(env={"FLUXLIT_STREAMLIT_UPSTREAM": recording_upstream, "FLUXLIT_GATEWAY_BODY_READ_TIMEOUT_S": str(BODY_TIMEOUT_S)}, lane=lane) as gateway:
        yield gateway


def start_upload(gateway: Gateway, tag: str) -> socket.socket:
    """A POST that declares 1000 bytes and sends 10 of them."""
    sock = socket.create_connection(("127.0.0.1", gateway.port), timeout=30)
    sock.sendall(f"POST /record/{tag} HTTP/1.1\r\nHost: t\r\nContent-Length: 1000\r\n\r\n".encode() + b"0123456789")
    return sock


def test_stalled_body_gets_408_and_the_upstream_never_sees_a_complete_request(patient_gateway, recording_upstream) -> None:
    tag = uuid.uuid4().hex
    with start_upload(patient_gateway, tag) as sock:
        reply = b""
        while chunk := sock.recv(4096):  # the gateway closes after the 408
            reply += chunk
    assert reply.startswith(b"HTTP/1.1 408") and b"FLUXLIT_GATEWAY_BODY_READ_TIMEOUT_S" in reply
    deadline = time.monotonic() + 10
    while not (records := httpx.get(f"{recording_upstream}/recorded/{tag}").json()) or "complete" not in records[0]:
        assert time.monotonic() < deadline, f"upstream records: {records}"
        time.sleep(0.1)
    assert records[0]["complete"] is False


def test_a_thousand_slow_uploads_do_not_deny_service(patient_gateway) -> None:
    uploads = []
    try:
        for i in range(SLOW_UPLOADS):
            uploads.append(start_upload(patient_gateway, f"slow-{i}"))
        with httpx.Client(timeout=5) as client:
            for _ in range(20):
                assert client.get(patient_gateway.url + "/echo/normal").status_code == 200
                assert client.get(patient_gateway.url + "/api/hello").json() == {"hello": "world"}
    finally:
        for sock in uploads:
            sock.close()
