"""HTTP reverse proxy to Streamlit: both bodies stream, with backpressure, through aiohttp."""

import asyncio
import logging
from collections.abc import AsyncIterator

import aiohttp
from starlette.types import Receive, Scope, Send

from .._speedups import BodyLimit
from ..metrics import note_body_limit_rejected, note_upstream_error
from .headers import downstream_response_headers, upstream_headers_for
from .body_pace import HELD_BODY_BYTES, BodyPace
from .responses import busy_reason, send_error, too_large_reason
from .upstream import UPSTREAM_ERRORS, Upstream

log = logging.getLogger("fluxlit.gateway")


class ClientDisconnected(Exception):
    """The client went away while its request body was being forwarded."""


class BodyTooLarge(Exception):
    """The streamed request body passed ``FLUXLIT_GATEWAY_MAX_PROXY_REQUEST_BODY_BYTES``."""


class BodyTooSlow(Exception):
    """The client's body paused too long or trickled under the minimum rate (see ``BodyPace``)."""


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
    """The client's request body, held until complete or ``HELD_BODY_BYTES`` big, then streamed to
    aiohttp; counted against the body cap and watched for its pace."""

    def __init__(self, receive: Receive, limit: BodyLimit, pace: BodyPace) -> None:
        self.receive = receive
        self.limit = limit
        self.pace = pace
        self.held: list[bytes] = []
        self.complete = False
        self.over_cap = False
        self.too_slow: str | None = None
        self.client_gone = False

    async def hold(self) -> None:
        """Read the body until it is complete or ``HELD_BODY_BYTES`` are held: a trickling body takes no upstream slot."""
        size = 0
        while not self.complete and size <= HELD_BODY_BYTES:
            piece = await self._next()
            self.held.append(piece)
            size += len(piece)

    async def chunks(self) -> AsyncIterator[bytes]:
        """The body chunk by chunk; raises before yielding a byte past the cap."""
        # aiohttp pulls the next chunk only once the previous one is written: that is the backpressure.
        # Raising makes aiohttp drop the upstream connection without ending the body, so the
        # upstream never sees a complete request.
        held, self.held = self.held, []
        for piece in held:
            if piece:
                yield piece
        while not self.complete:
            if piece := await self._next():
                yield piece

    async def _next(self) -> bytes:
        loop = asyncio.get_running_loop()
        while True:
            try:
                message = await asyncio.wait_for(self.receive(), self.pace.next_check(loop.time()))
            except asyncio.TimeoutError:
                if (reason := self.pace.verdict(loop.time())) is None:
                    continue  # a window ended at a good rate; the body has not ended
                self.too_slow = reason
                raise BodyTooSlow from None
            if message["type"] == "http.disconnect":
                self.client_gone = True
                raise ClientDisconnected
            body = message.get("body", b"")
            if body:
                if self.limit.feed(len(body)):
                    self.over_cap = True
                    raise BodyTooLarge
                self.pace.fed(len(body), loop.time())
                if (reason := self.pace.verdict(loop.time())) is not None:
                    self.too_slow = reason
                    raise BodyTooSlow
            self.complete = not message.get("more_body", False)
            if body or self.complete:
                return body

    async def explain(self, send: Send, scope: Scope, request_id: bytes, *, answer: bool) -> bool:
        """Whether the body explains a failure (client gone, over the cap, too slow); ``answer`` sends its 413 or 408."""
        if self.client_gone:
            return True
        if self.over_cap:
            if answer:
                await _send_too_large(send, scope, self.limit.cap, request_id)
            return True
        if self.too_slow is not None:
            if answer:
                await _send_too_slow(send, scope, self.too_slow, request_id)
            return True
        return False


async def _send_too_large(send: Send, scope: Scope, cap: int, request_id: bytes) -> None:
    """413 naming the setting; the connection closes because the rest of the body stays unread."""
    note_body_limit_rejected()
    reason = too_large_reason(cap)
    log.warning("413 for %s: %s request_id=%s", scope["path"], reason, request_id.decode())
    await send_error(send, 413, reason, request_id, close=True)


async def _send_too_slow(send: Send, scope: Scope, reason: str, request_id: bytes) -> None:
    """408 naming the setting; the upstream request was aborted, so it never completes."""
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
    """Forward one HTTP request to Streamlit and stream the answer back: 413 over the body cap, 408 for a
    body too slow, 502 when Streamlit cannot answer, 503 when every upstream slot stayed busy."""
    has_body, declared = _declared_body(scope["headers"])
    limit = BodyLimit(upstream.config.body_cap)
    if declared is not None and limit.over_declared(declared):
        await _send_too_large(send, scope, limit.cap, request_id)
        return
    if reason := upstream.unavailable_reason():
        note_upstream_error()
        await send_error(send, 502, reason, request_id)
        return
    config = upstream.config
    pace = BodyPace(asyncio.get_running_loop().time(), stall_s=config.body_read_timeout_s, min_rate=config.min_body_rate_bps)
    upload = _Upload(receive, limit, pace) if has_body else None
    if upload is not None:
        try:
            await upload.hold()
        except (ClientDisconnected, BodyTooLarge, BodyTooSlow):
            await upload.explain(send, scope, request_id, answer=True)
            return
    try:
        await asyncio.wait_for(upstream.slots.acquire(), config.connect_timeout_s)
    except asyncio.TimeoutError:
        reason = busy_reason(config.upstream_max_connections, config.connect_timeout_s)
        log.warning("503 for %s: %s request_id=%s", scope["path"], reason, request_id.decode())
        await send_error(send, 503, reason, request_id, close=upload is not None and not upload.complete)
        return
    try:
        await _forward(scope, receive, send, upstream, raw_path, request_id, upload)
    finally:
        upstream.slots.release()


async def _forward(
    scope: Scope, receive: Receive, send: Send, upstream: Upstream, raw_path: bytes, request_id: bytes, upload: _Upload | None
) -> None:
    headers = upstream_headers_for(scope, request_id, upstream.config.policy)
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
    except (ClientDisconnected, BodyTooLarge, BodyTooSlow, *UPSTREAM_ERRORS) as exc:
        # aiohttp reports a failing body as its own connection error: the upload says what happened.
        if upload is not None and await upload.explain(send, scope, request_id, answer=not started):
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
