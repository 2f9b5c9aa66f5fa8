"""HTTP reverse proxy to Streamlit: both bodies stream, with backpressure, through aiohttp."""

import asyncio
import logging
from collections.abc import AsyncIterator

import aiohttp
from starlette.types import Receive, Scope, Send

from .._speedups import BodyLimit
from ..metrics import note_body_limit_rejected, note_upstream_error
from .headers import downstream_response_headers, upstream_headers_for
from .responses import send_error, stalled_reason, too_large_reason
from .upstream import UPSTREAM_ERRORS, Upstream

log = logging.getLogger("fluxlit.gateway")


class ClientDisconnected(Exception):
    """The client went away while its request body was being forwarded."""


class BodyTooLarge(Exception):
    """The streamed request body passed ``FLUXLIT_GATEWAY_MAX_PROXY_REQUEST_BODY_BYTES``."""


class BodyStalled(Exception):
    """The client sent no body bytes for ``FLUXLIT_GATEWAY_BODY_READ_TIMEOUT_S``."""


def _declared_body(headers: list[tuple[bytes, bytes]]) -> tuple[bool, int | None]:
    """Whether the request has a body, and its declared length (``None`` when chunked)."""
    for name, value in headers:
        name = name.lower()
        if name == b"content-length":
            length = int(value)  # the server's HTTP parser has already rejected malformed lengths
            return length > 0, length
        if name == b"transfer-encoding":
            return True, None
    return False, None


class _Upload:
    """The client's request body, streamed to aiohttp and counted against the body cap."""

    def __init__(self, receive: Receive, limit: BodyLimit, read_timeout_s: float) -> None:
        self.receive = receive
        self.limit = limit
        self.read_timeout_s = read_timeout_s
        self.over_cap = False
        self.stalled = False
        self.client_gone = False

    async def chunks(self) -> AsyncIterator[bytes]:
        """The body chunk by chunk; raises before yielding a byte past the cap."""
        # aiohttp pulls the next chunk only once the previous one is written: that is the backpressure.
        # Raising makes aiohttp drop the upstream connection without ending the body, so the
        # upstream never sees a complete request.
        while True:
            try:
                # A slow client holds one upstream connection at most this long between chunks.
                message = await asyncio.wait_for(self.receive(), self.read_timeout_s)
            except asyncio.TimeoutError:
                self.stalled = True
                raise BodyStalled from None
            if message["type"] == "http.disconnect":
                self.client_gone = True
                raise ClientDisconnected
            if body := message.get("body", b""):
                if self.limit.feed(len(body)):
                    self.over_cap = True
                    raise BodyTooLarge
                yield body
            if not message.get("more_body", False):
                return


async def _send_too_large(send: Send, scope: Scope, cap: int, request_id: bytes) -> None:
    """413 naming the setting; the connection closes because the rest of the body stays unread."""
    note_body_limit_rejected()
    reason = too_large_reason(cap)
    log.warning("413 for %s: %s request_id=%s", scope["path"], reason, request_id.decode())
    await send_error(send, 413, reason, request_id, close=True)


async def _send_stalled(send: Send, scope: Scope, timeout_s: float, request_id: bytes) -> None:
    """408 naming the setting; the upstream request was aborted, so it never completes."""
    reason = stalled_reason(timeout_s)
    log.warning("408 for %s: %s request_id=%s", scope["path"], reason, request_id.decode())
    await send_error(send, 408, reason, request_id, close=True)


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
    """Forward one HTTP request to Streamlit and stream the answer back; 413 over the body cap, 502 when it cannot."""
    has_body, declared = _declared_body(scope["headers"])
    limit = BodyLimit(upstream.config.body_cap)
    if declared is not None and limit.over_declared(declared):
        await _send_too_large(send, scope, limit.cap, request_id)
        return
    if reason := upstream.unavailable_reason():
        note_upstream_error()
        await send_error(send, 502, reason, request_id)
        return
    headers = upstream_headers_for(scope, request_id, upstream.config.policy)
    upload = _Upload(receive, limit, upstream.config.body_read_timeout_s) if has_body else None
    url = upstream.url(raw_path, scope.get("query_string", b""))
    started = False
    watcher: asyncio.Task[None] | None = None
    try:
        async with upstream.session.request(
            scope["method"], url, headers=headers, data=upload.chunks() if upload else None, allow_redirects=False
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
    except (ClientDisconnected, BodyTooLarge, BodyStalled, *UPSTREAM_ERRORS) as exc:
        # aiohttp reports a failing body as its own connection error: the upload says what happened.
        if upload is not None and upload.client_gone:
            return
        if upload is not None and upload.over_cap:
            if not started:
                await _send_too_large(send, scope, limit.cap, request_id)
            return
        if upload is not None and upload.stalled:
            if not started:
                await _send_stalled(send, scope, upload.read_timeout_s, request_id)
            return
        reason = upstream.unavailable_reason() or _describe(exc)
        note_upstream_error()
        log.warning("upstream error on %s %s: %s request_id=%s", scope["method"], scope["path"], reason, request_id.decode())
        if not started:
            await send_error(send, 502, reason, request_id)
        # After the status line is out, returning early makes the server close the connection,
        # which is how a truncated response must reach the client.
    finally:
        if watcher is not None:
            watcher.cancel()
