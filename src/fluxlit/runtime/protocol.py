"""uvicorn's httptools and WebSocket protocols with the gateway's connection-level rules.

What llhttp already refuses (Content-Length with Transfer-Encoding, duplicate or malformed
Content-Length, bad bytes in header names and values, obs-fold, bare LF) is answered 400 by the
parser; this module adds the rest of DESIGN.md section 5: the header read deadline, the header
block caps, duplicate or missing Host, Transfer-Encoding on HTTP/1.0 or other than ``chunked``,
dropped chunked trailers, and WebSockets closed with 1001 on shutdown.
"""

import asyncio
import logging
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

import httptools
from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from uvicorn.server import ServerState

from .._speedups import FrameInspector, WebSocketProtocolError, head_problem, mint_request_id
from ..settings import FluxlitSettings

log = logging.getLogger("fluxlit.gateway")

CLOSE_GOING_AWAY = 1001


@dataclass(frozen=True, slots=True)
class HeadLimits:
    """Limits on a request head: read deadline, block size (request line included) and field count."""

    read_timeout_s: float
    max_bytes: int
    max_count: int

    @classmethod
    def from_settings(cls, settings: FluxlitSettings) -> "HeadLimits":
        """``FLUXLIT_GATEWAY_HEADER_READ_TIMEOUT_S``, ``..._MAX_HEADER_BYTES`` and ``..._MAX_HEADER_COUNT``."""
        return cls(settings.gateway_header_read_timeout_s, settings.gateway_max_header_bytes, settings.gateway_max_header_count)


class RequestRejected(Exception):
    """Raised from a parser callback: answer ``status`` and close the connection."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


class GatewayHttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol plus the gateway's head limits; errors answer and close."""

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
        *,
        limits: HeadLimits,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self.limits = limits
        self._deadline: asyncio.TimerHandle | None = None
        self._awaiting_head = True  # the next header block has not been completed yet
        self._head_started = False  # some of it has arrived
        self._progress = False  # the parser completed a structural step during this feed
        self._stalled_bytes = 0  # bytes fed since the last structural step

    def connection_made(self, transport: asyncio.BaseTransport) -> None:  # type: ignore[override]
        super().connection_made(transport)  # type: ignore[arg-type]
        self._arm_deadline()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_deadline()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        self._unset_keepalive_if_required()
        self._progress = False
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            if self._should_upgrade():
                self.handle_websocket_upgrade()
            else:
                self._unsupported_upgrade_warning()
            return
        except httptools.HttpParserError as exc:
            cause = exc.__context__
            if isinstance(cause, RequestRejected):
                self.reject(cause.status, cause.reason)
            else:
                self.reject(400, f"malformed request ({exc})")
            return
        # A header block that never ends, or a trailer section that never ends, arrives as feeds
        # without progress; httptools buffers a header field until it is complete, so bound it here.
        if self._progress:
            self._stalled_bytes = 0
        else:
            self._stalled_bytes += len(data)
            if self._stalled_bytes > self.limits.max_bytes:
                self.reject(431, f"header block over {self.limits.max_bytes} bytes (FLUXLIT_GATEWAY_MAX_HEADER_BYTES)")

    def on_message_begin(self) -> None:
        self._progress = self._head_started = True
        super().on_message_begin()

    def on_header(self, name: bytes, value: bytes) -> None:
        if self._awaiting_head:
            super().on_header(name, value)
        # Otherwise it is a chunked trailer: dropped, never turned into a request header.

    def on_headers_complete(self) -> None:
        self._progress = True
        self._head_started = False
        self._cancel_deadline()
        if problem := head_problem(self.url, self.headers, self.parser.get_http_version(), self.limits.max_bytes, self.limits.max_count):
            raise RequestRejected(*problem)
        self._awaiting_head = False
        super().on_headers_complete()

    def on_body(self, body: bytes) -> None:
        self._progress = True
        super().on_body(body)

    def on_message_complete(self) -> None:
        self._progress = self._awaiting_head = True
        super().on_message_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if self._awaiting_head and not self.transport.is_closing():
            self._arm_deadline()

    def _arm_deadline(self) -> None:
        self._cancel_deadline()
        self._deadline = self.loop.call_later(self.limits.read_timeout_s, self._deadline_passed)

    def _cancel_deadline(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _deadline_passed(self) -> None:
        self._deadline = None
        if self.transport.is_closing() or not self._awaiting_head:
            return
        if self.cycle is not None and not self.cycle.response_complete:
            return  # a pipelined response is still going out; its end re-arms the deadline
        if self._head_started:
            self.reject(408, f"request headers not received within {self.limits.read_timeout_s:g}s (FLUXLIT_GATEWAY_HEADER_READ_TIMEOUT_S)")
        else:
            self.transport.close()

    def reject(self, status: int, reason: str) -> None:
        """Answer ``status`` (when no other response is on the wire) and close the connection."""
        request_id = mint_request_id()
        log.warning("%s from %s: %s request_id=%s", status, self.client[0] if self.client else "?", reason, request_id.decode())
        cycle = self.cycle
        busy = cycle is not None and not cycle.response_complete
        if busy:
            # The app sees a disconnect: a proxied body in flight is aborted, never completed upstream.
            cycle.disconnected = True
            cycle.message_event.set()
        if not busy or (not cycle.response_started and not self._awaiting_head):
            body = f"{status} {HTTPStatus(status).phrase}: {reason}\nrequest id: {request_id.decode()}\n".encode()
            head = [f"HTTP/1.1 {status} {HTTPStatus(status).phrase}\r\n".encode()]
            head += [name + b": " + value + b"\r\n" for name, value in self.server_state.default_headers]
            head += [
                b"content-type: text/plain; charset=utf-8\r\n",
                b"content-length: %d\r\n" % len(body),
                b"x-request-id: " + request_id + b"\r\n",
                b"connection: close\r\n\r\n",
            ]
            self.transport.write(b"".join(head) + body)
        self.transport.close()


class GatewayWebSocketProtocol(WebSocketsSansIOProtocol):
    """uvicorn's WebSocket protocol, with client frames checked by the frame-inspector kernel first.

    Violations (unmasked or reserved frames, fragmented or oversized control frames, messages over
    ``FLUXLIT_GATEWAY_WS_MAX_MESSAGE_BYTES``) fail the connection with 1002/1009 before any frame
    reaches the app. Shutdown closes with 1001 Going Away (uvicorn sends 1012).
    """

    inspector: FrameInspector | None = None

    def data_received(self, data: bytes) -> None:
        if self.handshake_complete and not self.close_sent:
            if self.inspector is None:
                compressed = bool(getattr(self.conn, "extensions", None))
                self.inspector = FrameInspector(masked=True, max_message=self.config.ws_max_size, allow_rsv1=compressed)
            try:
                self.inspector.feed(data)
            except WebSocketProtocolError as exc:
                log.warning("websocket closed with %d: %s", exc.code, exc.reason)
                self.conn.fail(exc.code, exc.reason)
                self.handle_parser_exception()
                return
        super().data_received(data)

    def shutdown(self) -> None:
        if self.handshake_complete and not self.close_sent:
            self.stop_keepalive()
            self.queue.put_nowait({"type": "websocket.disconnect", "code": CLOSE_GOING_AWAY})
            self.conn.send_close(CLOSE_GOING_AWAY, "server shutting down")
            self.transport.write(b"".join(self.conn.data_to_send()))
            self.transport.close()
            return
        super().shutdown()
