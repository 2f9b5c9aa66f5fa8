"""Every answer the gateway writes itself: the error texts, as raw bytes (edge) and as ASGI messages."""

import json
from http import HTTPStatus
from typing import Any

from starlette.types import Send

from .._speedups.constants import STATUS_LINES
from .headers import REQUEST_ID

TEXT = b"text/plain; charset=utf-8"


def too_large_reason(cap: int) -> str:
    """Why a proxied body was refused (413)."""
    return f"the request body is over {cap} bytes (FLUXLIT_GATEWAY_MAX_PROXY_REQUEST_BODY_BYTES)"


def busy_reason(max_connections: int, waited_s: float) -> str:
    """Why a proxied request got no upstream connection (503)."""
    return f"all {max_connections} upstream connections stayed busy for {waited_s:g}s (FLUXLIT_GATEWAY_UPSTREAM_MAX_CONNECTIONS)"


def error_body(status: int, reason: str, request_id: bytes) -> bytes:
    """``<status> <phrase>: <reason>`` and the request id, so an operator can find the log line."""
    return f"{status} {HTTPStatus(status).phrase}: {reason}\nrequest id: {request_id.decode()}\n".encode()


ALLOWED_METHODS = b"GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS"
"""What ``OPTIONS *`` and a 405 answer: the methods the gateway serves."""


def raw_response(status: int, body: bytes, request_id: bytes, *, defaults: bytes = b"", content_type: bytes = TEXT, close: bool = True,
                 bodiless: bool = False) -> bytes:  # fmt: skip
    """A whole HTTP/1.1 response as bytes; ``defaults`` are the server's own header lines (Date).

    ``bodiless`` (an answer to ``HEAD``) sends the head alone; a 405 names the allowed methods.
    """
    head = [
        STATUS_LINES[status],
        defaults,
        b"content-type: ", content_type, b"\r\ncontent-length: %d\r\n" % len(body),
        b"allow: " + ALLOWED_METHODS + b"\r\n" if status == 405 else b"",
        b"x-request-id: ", request_id, b"\r\n",
        b"connection: close\r\n\r\n" if close else b"\r\n",
    ]  # fmt: skip
    return b"".join(head) if bodiless else b"".join(head) + body


def raw_error(status: int, reason: str, request_id: bytes, *, defaults: bytes = b"", close: bool = True, bodiless: bool = False) -> bytes:
    """``raw_response`` of ``error_body``."""
    return raw_response(status, error_body(status, reason, request_id), request_id, defaults=defaults, close=close, bodiless=bodiless)


async def send_bytes(send: Send, status: int, body: bytes, content_type: bytes, request_id: bytes, *, close: bool = False) -> None:
    """Send a complete response with the request id; ``close`` ends the connection after it."""
    headers = [
        (b"content-type", content_type),
        (b"content-length", str(len(body)).encode()),
        (REQUEST_ID, request_id),
    ]
    if close:
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def send_json(send: Send, status: int, payload: dict[str, Any], request_id: bytes) -> None:
    """Send a JSON response with the request id."""
    await send_bytes(send, status, json.dumps(payload).encode(), b"application/json", request_id)


async def send_error(send: Send, status: int, reason: str, request_id: bytes, *, close: bool = False) -> None:
    """Send ``error_body`` as a plain-text response."""
    await send_bytes(send, status, error_body(status, reason, request_id), TEXT, request_id, close=close)
