"""The splice lane for WebSockets: the handshake goes upstream, and after its 101 raw frames flow both ways.

Frames are neither unmasked nor re-masked. The frame-inspector kernel watches the client's
direction (protocol violations close 1002, oversized messages 1009) and both directions' close
frames; the upstream's direction is inspected for its close frame and frame boundaries only.
While the connection idles it costs two transports and their protocols: no task, no queue.
"""

import asyncio
import logging
from typing import TYPE_CHECKING

from .._speedups import FrameInspector, WebSocketProtocolError, downstream_head
from ..gateway import close_codes
from ..gateway.responses import raw_error
from .pool import UpstreamConnection, connect_failure

if TYPE_CHECKING:
    from ..gateway.observer import Exchange as Record
    from .protocol import EdgeProtocol

log = logging.getLogger("fluxlit.gateway")

CLOSE = 0x8
LINGER_QUIET_S = 0.1
"""After the gateway's close frame, a client silent this long is taken to have answered."""


class UpstreamSide(asyncio.Protocol):
    """The upstream connection after its 101: bytes go to the splice."""

    __slots__ = ("splice",)

    def __init__(self, splice: "WebSocketSplice") -> None:
        self.splice = splice

    def data_received(self, data: bytes) -> None:
        self.splice.from_upstream(data)

    def connection_lost(self, exc: Exception | None) -> None:
        self.splice.upstream_lost()

    def pause_writing(self) -> None:
        self.splice.edge.pause_client(True)

    def resume_writing(self) -> None:
        self.splice.edge.pause_client(False)


class WebSocketSplice:
    """One proxied WebSocket: the handshake through a fresh upstream connection, then a raw relay."""

    __slots__ = ("_connection", "client_closed", "closing", "linger_until", "quiet_since", "client_frames", "early", "edge", "finished", "head", "record", "request_id",
                 "response_complete", "upstream", "upstream_closed", "upstream_frames", "keep_alive")  # fmt: skip

    def __init__(self, edge: "EdgeProtocol", head: bytes, request_id: bytes, early: bytes, record: "Record | None") -> None:
        self.edge = edge
        self.head = head
        self.request_id = request_id
        self.early = early
        self.record = record
        self.upstream: asyncio.Transport | None = None
        self._connection: UpstreamConnection | None = None
        self.finished = False
        self.response_complete = False
        self.keep_alive = False
        self.client_closed = False
        self.closing = False
        self.upstream_closed = False
        self.client_frames: FrameInspector | None = None
        self.upstream_frames: FrameInspector | None = None

    def start(self) -> None:
        """Open a connection of its own to the upstream and send the handshake."""
        self.edge.pool.fresh(self)

    # the handshake, reported by the upstream connection
    def connected(self, connection: UpstreamConnection) -> None:
        """A connection of its own: send the handshake."""
        if self.finished:
            connection.abort()
            return
        self._connection = connection
        connection.send(self, self.head)

    def connect_failed(self, exc: BaseException) -> None:
        """The upstream cannot be reached: 502."""
        self.upstream_failed(self.edge.upstream.unavailable_reason() or connect_failure(exc))

    def response_head(self, raw: bytes, keep_alive: bool) -> None:
        """The upstream's answer to the handshake: 101 is relayed once the parser stops; anything else denies."""
        status, head, _, _ = downstream_head(raw, self.request_id, self.edge.default_headers(), True, True, False)
        if status != 101:
            self._deny(502 if status == 0 else status, f"Streamlit refused the WebSocket ({status})")
            return
        # Extensions are negotiated end to end; with permessage-deflate, RSV1 marks compressed messages.
        compressed = b"permessage-deflate" in raw.lower()
        max_message = self.edge.gateway_config.ws_max_message
        self.client_frames = FrameInspector(masked=True, max_message=max_message, allow_rsv1=compressed, check_utf8=True)
        self.upstream_frames = FrameInspector(masked=False, allow_rsv1=compressed)
        self.edge.transport.write(head)

    def upgraded(self, rest: bytes) -> None:
        """The upstream switched protocols: from here on both connections carry frames."""
        connection = self._connection
        assert connection is not None
        connection.detach()
        if self.client_frames is None:  # a 101 the handshake did not get
            connection.abort()
            return
        self.upstream = connection.transport
        self.upstream.set_protocol(UpstreamSide(self))  # type: ignore[union-attr]
        self._connection = None  # its parser and buffers are not needed any more
        self.head = b""
        if self.record is not None:
            self.record.accept()
        if rest:
            self.from_upstream(rest)
        early, self.early = self.early, b""
        if early:
            self.from_client(early)

    def response_body(self, data: bytes) -> None:
        """Body of a denial: dropped (the gateway answers with its own text)."""

    def response_end(self) -> None:
        """End of a denial."""

    def flush(self) -> None:
        """The handshake's answer is written as soon as it is known."""

    def upstream_paused(self, paused: bool) -> None:
        """Backpressure during the handshake: nothing to do."""

    def upstream_failed(self, reason: str) -> None:
        """The upstream could not be reached or failed during the handshake: 502."""
        self.edge.note_upstream_error()
        log.warning("websocket upstream error on %s: %s request_id=%s", self.edge.target_text(), reason, self.request_id.decode())
        self._deny(502, reason)

    def _deny(self, status: int, reason: str) -> None:
        if self.finished:
            return
        if self._connection is not None:
            self._connection.abort()
        if self.record is not None:
            self.record.status = status
        self.edge.transport.write(raw_error(status, reason, self.request_id, defaults=self.edge.default_headers()))
        self._finish()

    # the relay
    def from_client(self, data: bytes) -> None:
        """Client bytes: checked by the inspector, then written upstream as they are."""
        if self.closing:
            self._drain(data)
            return
        if self.upstream is None:
            self.early += data
            return
        try:
            events = self.client_frames.feed(data)  # type: ignore[union-attr]
        except WebSocketProtocolError as exc:
            self._violation(exc)
            return
        self.upstream.write(data)
        for event in events:
            if event.opcode == CLOSE:
                self.client_closed = True
                self._note_close(event.close_code or close_codes.NO_STATUS)

    def from_upstream(self, data: bytes) -> None:
        """Upstream bytes: written to the client as they are, close frames noted."""
        if self.closing:
            return  # nothing may follow the gateway's close frame
        try:
            events = self.upstream_frames.feed(data)  # type: ignore[union-attr]
        except WebSocketProtocolError as exc:
            log.warning("Streamlit sent a malformed WebSocket frame (%s) request_id=%s", exc.reason, self.request_id.decode())
            self.upstream.abort()  # type: ignore[union-attr]
            self.edge.transport.abort()
            self._finish()
            return
        self.edge.transport.write(data)
        for event in events:
            if event.opcode == CLOSE:
                self.upstream_closed = True
                self._note_close(event.close_code or close_codes.NO_STATUS)
            elif self.record is not None and event.opcode < CLOSE:
                self.record.bytes_sent += event.length

    def client_paused(self, paused: bool) -> None:
        """The client's write buffer filled or drained: stop or resume reading the upstream."""
        upstream = self.upstream
        if upstream is not None and not upstream.is_closing():
            upstream.pause_reading() if paused else upstream.resume_reading()

    def _violation(self, exc: WebSocketProtocolError) -> None:
        log.warning("websocket closed with %d: %s", exc.code, exc.reason)
        self._note_close(exc.code)
        self.upstream.abort()  # type: ignore[union-attr]
        self._close_client(exc.code, exc.reason)

    def _close_client(self, code: int, reason: str) -> None:
        frames = self.upstream_frames
        transport = self.edge.transport
        if frames is None or not frames.at_boundary:
            transport.abort()  # in the middle of a frame the connection can only drop
        elif self.upstream_closed:
            transport.close()  # the upstream's own close frame has gone to the client
        else:
            # Closing handshake: the client's bytes are read and dropped until its close frame comes
            # (or it falls quiet), so our close frame is not lost to a reset; then the gateway closes.
            transport.write(close_codes.close_frame(code, reason))
            self.closing = True
            self.quiet_since = self.edge.loop.time()
            self.linger_until = self.quiet_since + self.edge.gateway_config.ws_close_timeout_s
            self.edge.loop.call_later(LINGER_QUIET_S, self._linger)
            return
        self._finish()

    def _drain(self, data: bytes) -> None:
        # After the gateway's close frame: the client's answering close ends the connection.
        self.quiet_since = self.edge.loop.time()
        try:
            events = self.client_frames.feed(data)  # type: ignore[union-attr]
        except WebSocketProtocolError:
            return  # a stream already broken: wait for it to fall quiet
        if any(event.opcode == CLOSE for event in events):
            self.edge.transport.close()

    def _linger(self) -> None:
        transport, now = self.edge.transport, self.edge.loop.time()
        if transport.is_closing():
            return
        if now - self.quiet_since >= LINGER_QUIET_S or now >= self.linger_until:
            transport.close()
            return
        self.edge.loop.call_later(LINGER_QUIET_S, self._linger)

    def _close_upstream(self, code: int, reason: str) -> None:
        upstream = self.upstream
        if upstream is None:
            return
        frames = self.client_frames
        if frames is not None and frames.at_boundary and not self.client_closed:
            upstream.write(close_codes.close_frame(code, reason, masked=True))
        upstream.close()

    def upstream_lost(self) -> None:
        """The upstream connection ended: after its close frame the client's follows; without one, 1011."""
        if self.finished or self.closing:
            return
        if self.upstream_closed:
            self.edge.transport.close()
            self._finish()
            return
        self.edge.note_upstream_error()
        log.warning("websocket upstream lost on %s request_id=%s", self.edge.target_text(), self.request_id.decode())
        self._note_close(close_codes.INTERNAL_ERROR)
        self._close_client(close_codes.INTERNAL_ERROR, "Streamlit connection lost")

    def client_gone(self) -> None:
        """The client connection ended: the upstream gets the client's close, or 1001 without one."""
        if self.finished:
            return
        if self.closing:
            self._finish()  # the gateway closed first; the upstream was dealt with then
            return
        if self.upstream is not None:
            self._close_upstream(close_codes.GOING_AWAY, "client went away")
        elif self._connection is not None:
            self._connection.abort()
        self._note_close(close_codes.ABNORMAL)
        self._finish()

    def shutdown(self) -> None:
        """Server shutdown: 1001 Going Away to both sides."""
        if self.finished:
            return
        if self.upstream is None:
            self.edge.transport.close()
            return
        self._note_close(close_codes.GOING_AWAY)
        self._close_upstream(close_codes.GOING_AWAY, "server shutting down")
        self._close_client(close_codes.GOING_AWAY, "server shutting down")

    def _note_close(self, code: int) -> None:
        if self.record is not None and self.record.close_code is None:
            self.record.close_code = code

    def _finish(self) -> None:
        if self.finished:
            return
        self.finished = self.response_complete = True
        if self.record is not None:
            self.record.__exit__(None, None, None)
        self.edge.item_done(self)
