"""HTTP reverse proxy to Streamlit: both bodies stream, with backpressure, through aiohttp."""

import asyncio
import logging
from collections.abc import AsyncIterator

import aiohttp
from starlette.types import Receive, Scope, Send

from .headers import downstream_response_headers, upstream_headers_for
from .responses import send_bad_gateway
from .upstream import Upstream

log = logging.getLogger("fluxlit.gateway")

UPSTREAM_ERRORS = (aiohttp.ClientError, asyncio.TimeoutError, OSError)


class ClientDisconnected(Exception):
    """The client went away while its request body was being forwarded."""


def _has_body(headers: list[tuple[bytes, bytes]]) -> bool:
    for name, value in headers:
        name = name.lower()
        if name == b"content-length":
            return value.strip() not in (b"", b"0")
        if name == b"transfer-encoding":
            return True
    return False


async def _request_body(receive: Receive) -> AsyncIterator[bytes]:
    # aiohttp pulls the next chunk only once the previous one is written: that is the backpressure.
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnected
        if body := message.get("body", b""):
            yield body
        if not message.get("more_body", False):
            return


async def _wait_disconnect(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


def _describe(exc: BaseException) -> str:
    if isinstance(exc, asyncio.TimeoutError | aiohttp.ServerTimeoutError):
        return "the Streamlit upstream timed out"
    if isinstance(exc, aiohttp.ClientConnectorError):
        return f"cannot connect to the Streamlit upstream ({exc.os_error.strerror or exc.os_error})"
    return f"the Streamlit upstream failed ({type(exc).__name__}: {exc})"


async def proxy_http(scope: Scope, receive: Receive, send: Send, upstream: Upstream, raw_path: bytes, request_id: bytes) -> None:
    """Forward one HTTP request to Streamlit and stream the answer back; 502 when it cannot."""
    if reason := upstream.unavailable_reason():
        await send_bad_gateway(send, reason, request_id)
        return
    headers = upstream_headers_for(scope, request_id)
    body = _request_body(receive) if _has_body(scope["headers"]) else None
    url = upstream.url(raw_path, scope.get("query_string", b""))
    started = False
    watcher: asyncio.Task[None] | None = None
    try:
        async with upstream.session.request(
            scope["method"], url, headers=headers, data=body, allow_redirects=False
        ) as response:
            await send(
                {
                    "type": "http.response.start",
                    "status": response.status,
                    "headers": downstream_response_headers(response.raw_headers, request_id=request_id),
                }
            )
            started = True
            watcher = asyncio.ensure_future(_wait_disconnect(receive))
            async for chunk in response.content.iter_any():
                if watcher.done():
                    return
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b""})
    except ClientDisconnected:
        return
    except UPSTREAM_ERRORS as exc:
        reason = upstream.unavailable_reason() or _describe(exc)
        log.warning("upstream error on %s %s: %s request_id=%s", scope["method"], scope["path"], reason, request_id.decode())
        if not started:
            await send_bad_gateway(send, reason, request_id)
        # After the status line is out, returning early makes the server close the connection,
        # which is how a truncated response must reach the client.
    finally:
        if watcher is not None:
            watcher.cancel()
