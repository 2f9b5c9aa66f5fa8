"""The splice lane for HTTP: one proxied request moved as bytes between the client and a pooled upstream connection.

The client's body goes upstream as it arrives (counted by the body-limit kernel, re-framed when
chunked, trailers dropped) once it is complete or past ``HELD_BODY_BYTES``, so a slow upload never
holds an upstream connection while it trickles; the upstream's response head is rewritten by the
header-policy kernel and its body goes back as it arrives. Each side pauses the other's reading when its write buffer
fills, so no body is ever held whole. Everything is callbacks: no task per request.
"""

import asyncio
import logging
import time
from typing import TYPE_CHECKING

from .._speedups import BodyLimit, downstream_head
from ..gateway.body_pace import HELD_BODY_BYTES, BodyPace
from ..gateway.responses import raw_error, too_large_reason
from .pool import PoolExhausted, UpstreamConnection, connect_failure

if TYPE_CHECKING:
    from ..gateway.observer import Exchange as Record
    from .protocol import EdgeProtocol

log = logging.getLogger("fluxlit.gateway")

LAST_CHUNK = b"0\r\n\r\n"


class HttpSplice:
    """One proxied HTTP request; the edge feeds it the client's body, the upstream connection its response."""

    # Most requests never change these: class defaults, so a request sets only what is its own.
    _body_timer: "asyncio.TimerHandle | None" = None
    _out: list[bytes] | None = None
    _pending_size = 0
    _started = False
    _acquiring = False
    _refusal: tuple[int, str] | None = None
    """A 413 due: answered after the current read is parsed, or when the request's turn comes."""
    client_http11 = True
    is_head = False
    expect_continue = False
    connection: UpstreamConnection | None = None
    pace: BodyPace | None = None
    """A body's pace (``None`` without a body)."""
    request_done = False
    response_started = False
    response_complete = False
    chunked_out = False
    upstream_keep_alive = False
    finished = False
    retried = False

    def __init__(self, edge: "EdgeProtocol", head: bytes, request_id: bytes, length: int, keep_alive: bool, record: "Record | None") -> None:
        """``length`` is the body's framing as the header-policy kernel reports it: -1 chunked, else its Content-Length."""
        self.edge = edge
        self.head = head
        self.request_id = request_id
        self.has_body = length != 0
        self.chunked_in = length < 0
        self.declared = length
        self.keep_alive = keep_alive
        self.record = record
        # Only a request with a body is counted against the cap and watched for its pace.
        config = edge.gateway_config
        self.limit = BodyLimit(config.body_cap) if length else None
        if length:
            self.pace = BodyPace(time.monotonic(), stall_s=config.body_read_timeout_s, min_rate=config.min_body_rate_bps)
        self.pending: list[bytes] | None = []

    # driven by the edge
    def start(self) -> None:
        """Begin: refuse a declared body over the cap, answer ``100 Continue`` when asked, watch the body's pace, get an upstream connection."""
        self._started = True
        if self._refusal is not None:
            self._refuse(*self._refusal)
            return
        if self.limit is not None and self.limit.over_declared(self.declared):
            self._refuse(413, too_large_reason(self.limit.cap))
            return
        if self.expect_continue and self.has_body:
            # After the bytes already read are parsed: a request found malformed there gets its 400 alone.
            self.edge.loop.call_soon(self._continue)
        if self.has_body and not self.request_done:
            self._body_timer = self.edge.loop.call_later(self.pace.next_check(time.monotonic()), self._check_body)  # type: ignore[union-attr]
        if not self.has_body or self.request_done or self._pending_size > HELD_BODY_BYTES:
            self._acquire()

    def body(self, data: bytes) -> None:
        """Client body bytes (de-chunked by the parser); after an early answer they are read and dropped."""
        if self._refusal is not None:
            return
        if self.limit.feed(len(data)):  # type: ignore[union-attr]  # a body means a limit
            if self.finished:
                self.edge.transport.close()  # still sending past the cap after its answer
            else:
                self._refuse_soon(413, too_large_reason(self.limit.cap))  # type: ignore[union-attr]
            return
        self.pace.fed(len(data), time.monotonic())  # type: ignore[union-attr]  # a body means a pace
        if not self.finished:  # after an early answer the rest is dropped
            self._forward(b"%x\r\n%b\r\n" % (len(data), data) if self.chunked_in else data)

    def end_of_body(self) -> None:
        """The client's request is complete."""
        self.request_done = True
        self._stop_body_timer()
        if self.chunked_in and not self.finished:
            self._forward(LAST_CHUNK)
        if self._started and not self.finished and self._refusal is None:
            self._acquire()

    def client_gone(self) -> None:
        """The client closed its connection, or its bytes turned out malformed: the upstream never sees a complete request."""
        self._stop_body_timer()
        if not self.finished:
            self._drop_upstream()
            self._finish(failed=False)

    def client_paused(self, paused: bool) -> None:
        """The client's write buffer filled or drained: stop or resume reading the upstream."""
        if self.connection is not None:
            self.connection.pause_reading(paused)

    # reported by the upstream connection
    def response_head(self, raw: bytes, keep_alive: bool) -> None:
        """The upstream's raw response head: rewritten for the client by the header-policy kernel."""
        status, head, self.chunked_out, self.keep_alive = downstream_head(
            raw, self.request_id, self.edge.default_headers(), self.keep_alive, self.client_http11, self.is_head
        )
        if status == 0:
            self._drop_upstream()
            self.upstream_failed("the Streamlit upstream sent a malformed response head")
            return
        self.response_started = True
        if self.record is not None:
            self.record.status = status
        self.upstream_keep_alive = keep_alive and not self.is_head
        # Held until the read that carried it is handled, so head and first body bytes leave in one write.
        self._out = [head]
        if self.is_head:
            # httptools cannot be told a response to HEAD has no body: end it here, do not reuse the connection.
            self.flush()
            self._drop_upstream()
            self.response_complete = True
            self._finish(failed=False)

    def response_body(self, data: bytes) -> None:
        """Response body bytes (de-chunked by the parser), re-framed for the client when chunked."""
        if self.record is not None:
            self.record.bytes_sent += len(data)
        self._emit(b"%x\r\n%b\r\n" % (len(data), data) if self.chunked_out else data)

    def _emit(self, piece: bytes) -> None:
        if self._out is not None:
            self._out.append(piece)
        else:
            self.edge.transport.write(piece)

    def flush(self) -> None:
        """Write what the last upstream read produced for the client."""
        out, self._out = self._out, None
        if out:
            self.edge.transport.writelines(out)

    def response_end(self) -> None:
        """The upstream's response is complete: the connection goes back to the pool if it can carry another."""
        if self.chunked_out:
            self._emit(LAST_CHUNK)
        self.flush()
        self.response_complete = True
        connection, self.connection = self.connection, None
        if connection is not None:
            if self.request_done and self.upstream_keep_alive:
                self.edge.pool.release(connection)
            else:
                connection.abort()
        # An answer before the whole body (an upstream that does not read it): the rest of the body
        # is read and dropped, at the pace the body timer allows, so the client is not reset mid-upload.
        self._finish(failed=False)

    def upgraded(self, rest: bytes) -> None:
        """An upgrade nobody asked for: a broken upstream."""
        self._drop_upstream()
        self.upstream_failed("the Streamlit upstream switched protocols on a plain request")

    def upstream_failed(self, reason: str) -> None:
        """The upstream connection failed: 502 before the response started, an aborted client connection after."""
        connection, self.connection = self.connection, None
        if self.finished:
            return
        if self._retry(connection):
            return
        if self.edge.upstream.exit_code() is not None:
            reason = self.edge.upstream.unavailable_reason() or reason
        self.edge.note_upstream_error()
        log.warning("upstream error on %s: %s request_id=%s", self.edge.target_text(), reason, self.request_id.decode())
        if self.response_started:
            # A truncated response must not look complete: the client sees the connection drop.
            self.edge.transport.abort()
            self._finish(failed=True)
            return
        self._answer(502, reason, close=not self.request_done)

    def upstream_paused(self, paused: bool) -> None:
        """The upstream's write buffer filled or drained: stop or resume reading the client."""
        self.edge.pause_client(paused)

    # internals
    def connected(self, connection: UpstreamConnection) -> None:
        """The pool's connection for this request: send the head and any body bytes held so far."""
        if self.finished:
            self.edge.pool.release(connection)
            return
        self.connection = connection
        pending, self.pending = self.pending, None
        connection.send(self, self.head + b"".join(pending) if pending else self.head)
        if self._pending_size > HELD_BODY_BYTES:
            self.edge.pause_client(False)

    def connect_failed(self, exc: BaseException) -> None:
        """No connection could be opened: 502, or 503 when every bounded one stayed busy."""
        if self.finished:
            return
        if isinstance(exc, PoolExhausted):
            log.warning("503 for %s: %s request_id=%s", self.edge.target_text(), exc, self.request_id.decode())
            self._drop_upstream()
            self._answer(503, str(exc), close=not self.request_done)
            return
        self.upstream_failed(self.edge.upstream.unavailable_reason() or connect_failure(exc))

    def _retry(self, connection: UpstreamConnection | None) -> bool:
        # A pooled connection the upstream closed just as it was reused: safe to send again only
        # when nothing came back and nothing but the head was sent.
        if self.retried or self.response_started or self.has_body or connection is None or not connection.reused or connection.received:
            return False
        self.retried = True
        self.pending = []
        self._acquiring = False
        self._acquire()
        return True

    def _forward(self, data: bytes) -> None:
        if self._refusal is not None:
            return  # refused: the upstream must never see the request end
        if self.connection is not None:
            self.connection.write(data)
        elif self.pending is not None:
            self.pending.append(data)
            self._pending_size += len(data)
            if self._pending_size > HELD_BODY_BYTES:
                self.edge.pause_client(True)
                if self._started:
                    self._acquire()

    def _acquire(self) -> None:
        if not self._acquiring:
            self._acquiring = True
            self.edge.pool.acquire(self)

    def _check_body(self) -> None:
        self._body_timer = None
        pace = self.pace
        if self.request_done or pace is None:
            return
        now = time.monotonic()
        if self.edge.client_paused:
            pace.paused(now)  # paused by the gateway itself (upstream backpressure)
        elif (reason := pace.verdict(now)) is not None:
            if self.finished:
                self.edge.transport.close()  # the rest of an answered request's body stopped coming
            else:
                self._refuse(408, reason)
            return
        self._body_timer = self.edge.loop.call_later(pace.next_check(now), self._check_body)

    def _continue(self) -> None:
        if not self.finished and not self.edge.transport.is_closing():
            self.edge.transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")

    def _refuse_soon(self, status: int, reason: str) -> None:
        """Refuse once the bytes already read are parsed (a request found malformed there gets its 400
        instead), and in request order (a request waiting behind another is refused when its turn comes)."""
        self._refusal = (status, reason)
        self.pending = None
        if self._started:
            self.edge.loop.call_soon(self._refuse_due)

    def _refuse_due(self) -> None:
        if self._refusal is not None and not self.finished and not self.edge.transport.is_closing():
            self._refuse(*self._refusal)

    def _refuse(self, status: int, reason: str) -> None:
        """413 or 408 mid-request: the upstream request is aborted, the client answered (if it can be) and closed."""
        log.warning("%d for %s: %s request_id=%s", status, self.edge.target_text(), reason, self.request_id.decode())
        if status == 413:
            self.edge.note_body_limit_rejected()
        self._drop_upstream()
        if self.response_started:
            self.edge.transport.abort()
            self._finish(failed=True)
        else:
            self._answer(status, reason, close=True)

    def _answer(self, status: int, reason: str, *, close: bool) -> None:
        if self.record is not None:
            self.record.status = status
        self.keep_alive = self.keep_alive and not close
        self.edge.transport.write(raw_error(status, reason, self.request_id, defaults=self.edge.default_headers(), close=not self.keep_alive,
                                            bodiless=self.is_head))  # fmt: skip
        self.response_started = self.response_complete = True
        self._finish(failed=False)

    def _drop_upstream(self) -> None:
        self.pending = None
        connection, self.connection = self.connection, None
        if connection is not None:
            connection.abort()

    def _stop_body_timer(self) -> None:
        if self._body_timer is not None:
            self._body_timer.cancel()
            self._body_timer = None

    def _finish(self, *, failed: bool) -> None:
        if self.finished:
            return
        self.finished = True
        if self.request_done or not self.keep_alive:
            self._stop_body_timer()
        if self.record is not None:
            self.record.__exit__(RuntimeError if failed else None, None, None)
        self.edge.item_done(self)
