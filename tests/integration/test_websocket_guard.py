"""Client WebSocket frames that break the rules are closed 1002/1009 in both lanes.

The fast lane's parser is the frame-inspector kernel, whose reasons are checked too; the ASGI
lane's is the websockets library.
"""

import socket
from collections.abc import Iterator

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from tests.conftest import Gateway, running_gateway

pytestmark = pytest.mark.integration

MAX_MESSAGE = 4096


@pytest.fixture(scope="module")
def guarded(recording_upstream: str, lane: str) -> Iterator[Gateway]:
    with running_gateway(env={"FLUXLIT_STREAMLIT_UPSTREAM": recording_upstream, "FLUXLIT_GATEWAY_WS_MAX_MESSAGE_BYTES": str(MAX_MESSAGE)}, lane=lane) as gateway:
        yield gateway


def assert_closed(gateway: Gateway, got: tuple[int, str], code: int, kernel_reason: str) -> None:
    assert got[0] == code
    if gateway.lane == "fast":
        assert got[1] == kernel_reason


def raw_websocket(gateway: Gateway) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", gateway.port), timeout=15)
    sock.sendall(
        f"GET /ws HTTP/1.1\r\nHost: 127.0.0.1:{gateway.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n".encode()
    )
    head = b""
    while b"\r\n\r\n" not in head:
        head += sock.recv(4096)
    assert head.startswith(b"HTTP/1.1 101"), head
    return sock


def read_close(sock: socket.socket) -> tuple[int, str]:
    data = b""
    while len(data) < 2 or len(data) < 2 + (data[1] & 0x7F):
        chunk = sock.recv(4096)
        assert chunk, f"connection closed without a close frame after {data!r}"
        data += chunk
    assert data[0] == 0x88, data
    payload = data[2 : 2 + (data[1] & 0x7F)]
    return int.from_bytes(payload[:2], "big"), payload[2:].decode()


def test_unmasked_client_frame_is_closed_with_1002(guarded: Gateway) -> None:
    with raw_websocket(guarded) as sock:
        sock.sendall(b"\x81\x02hi")
        assert_closed(guarded, read_close(sock), 1002, "unmasked client frame")


def test_reserved_opcode_is_closed_with_1002(guarded: Gateway) -> None:
    with raw_websocket(guarded) as sock:
        sock.sendall(b"\x83\x80abcd")
        assert_closed(guarded, read_close(sock), 1002, "reserved opcode 0x3")


def test_fragmented_message_over_the_limit_is_closed_with_1009(guarded: Gateway) -> None:
    with connect(guarded.ws_url + "/ws", max_size=None, compression=None) as ws:
        ws.send("small")
        assert ws.recv(timeout=10) == "small"
        with pytest.raises(ConnectionClosed) as closed:
            # Two frames, each under the limit, one message over it; the close may already arrive during the send.
            ws.send(iter(["x" * 3000, "x" * 3000]))
            ws.recv(timeout=10)
    assert_closed(guarded, (closed.value.rcvd.code, closed.value.rcvd.reason), 1009, f"message over the {MAX_MESSAGE}-byte limit")


def test_messages_under_the_limit_flow(guarded: Gateway) -> None:
    with connect(guarded.ws_url + "/ws") as ws:
        ws.send(b"\x01" * MAX_MESSAGE)
        assert ws.recv(timeout=10) == b"\x01" * MAX_MESSAGE


def test_text_that_is_not_utf8_is_closed_with_1007_without_a_traceback(guarded: Gateway) -> None:
    mask = b"\x01\x02\x03\x04"
    payload = bytes(b ^ mask[i % 4] for i, b in enumerate(b"ok \xff\xfe"))
    with raw_websocket(guarded) as sock:
        sock.sendall(b"\x81\x85" + mask + payload)
        assert_closed(guarded, read_close(sock), 1007, "text message is not valid UTF-8")
    assert "Traceback" not in guarded.proc.output(), guarded.proc.output()
