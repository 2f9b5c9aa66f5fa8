"""Small ASGI responses the gateway writes itself (probes, errors)."""

import json
from typing import Any

from starlette.types import Send

from .headers import REQUEST_ID


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


async def send_bad_gateway(send: Send, reason: str, request_id: bytes) -> None:
    """502 naming the cause and the request id, so an operator can find the log line."""
    body = f"502 Bad Gateway: {reason}\nrequest id: {request_id.decode()}\n".encode()
    await send_bytes(send, 502, body, b"text/plain; charset=utf-8", request_id)
