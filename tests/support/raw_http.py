"""Raw HTTP/1.1 over sockets, and what the recording upstream says it received (``/recorded/TAG``, ``/seen/MARK``)."""

import json
import socket
import time
import uuid

import httpx

from tests.conftest import Gateway

IO_TIMEOUT_S = 15.0


class Reply:
    """A raw HTTP/1.1 response: status, lower-case headers, body, and whether the server closed."""

    def __init__(self, raw: bytes, closed: bool) -> None:
        head, _, self.body = raw.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        assert lines[0].startswith("HTTP/1.1 "), f"not an HTTP response: {raw[:200]!r}"
        self.status = int(lines[0].split()[1])
        self.headers = {k.strip().lower(): v.strip() for k, v in (line.split(":", 1) for line in lines[1:])}
        self.closed = closed

    def json(self) -> object:
        return json.loads(self.body)


def read_reply(sock: socket.socket) -> Reply:
    """Read one response, then whether the server closed (a reset after unread request bytes counts)."""
    data = b""
    try:
        while not complete(data) and (chunk := sock.recv(65536)):
            data += chunk
        closed = sock.recv(1) == b""
    except ConnectionResetError:
        closed = True
    except TimeoutError:
        closed = False
    return Reply(data, closed)


def complete(data: bytes) -> bool:
    head, sep, body = data.partition(b"\r\n\r\n")
    if not sep:
        return False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return len(body) >= int(value)
    return False


def exchange(gateway: Gateway, *parts: bytes) -> Reply:
    """Send ``parts`` on a fresh connection (tolerating a server that stops reading) and read the reply."""
    with socket.create_connection(("127.0.0.1", gateway.port), timeout=IO_TIMEOUT_S) as sock:
        try:
            for part in parts:
                sock.sendall(part)
        except (BrokenPipeError, ConnectionResetError):
            pass
        return read_reply(sock)


def recorded(upstream: str, tag: str) -> list[dict]:
    """What the upstream received under ``tag``."""
    return httpx.get(f"{upstream}/recorded/{tag}").json()


def settled(upstream: str, tag: str) -> list[dict]:
    """The records for ``tag`` once the upstream has finished reading every body it got."""
    deadline = time.monotonic() + IO_TIMEOUT_S
    while True:
        records = recorded(upstream, tag)
        if all(r["complete"] or "error" in r for r in records):
            return records
        assert time.monotonic() < deadline, f"upstream still reading: {records}"
        time.sleep(0.05)


def seen(upstream: str, mark: str) -> list[str]:
    """Every request target the upstream received that contains ``mark``."""
    return httpx.get(f"{upstream}/seen/{mark}").json()


def upstream_header_names(record: dict) -> set[str]:
    return {name.lower() for name, _ in record["headers"]}


def new_tag() -> str:
    return uuid.uuid4().hex


def read_all(sock: socket.socket) -> tuple[bytes, str]:
    """Everything until the server ends the connection, and how it ended: ``fin``, ``reset`` or ``open``."""
    data = b""
    try:
        while chunk := sock.recv(65536):
            data += chunk
        return data, "fin"
    except ConnectionResetError:
        return data, "reset"
    except TimeoutError:
        return data, "open"


def responses(data: bytes) -> list[tuple[int, dict[str, str], bytes]]:
    """Split a byte stream of Content-Length framed responses."""
    out = []
    while data:
        head, _, rest = data.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        headers = {k.strip().lower(): v.strip() for k, v in (line.split(":", 1) for line in lines[1:])}
        length = int(headers.get("content-length", "0"))
        out.append((int(lines[0].split()[1]), headers, rest[:length]))
        data = rest[length:]
    return out


def send(gateway: Gateway, raw: bytes) -> tuple[list[tuple[int, dict[str, str], bytes]], str]:
    """Send ``raw`` on a fresh connection; the responses and how the connection ended."""
    with socket.create_connection(("127.0.0.1", gateway.port), timeout=IO_TIMEOUT_S) as sock:
        sock.sendall(raw)
        data, ended = read_all(sock)
    return responses(data), ended
