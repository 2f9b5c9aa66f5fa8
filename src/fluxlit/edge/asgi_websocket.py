"""uvicorn's WebSocket protocol for the ASGI lane (API WebSockets, and proxied ones under ``--lane asgi``).

Client frames are checked by the frame-inspector kernel first; shutdown closes with 1001.
"""

import logging

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

from .._speedups import FrameInspector, WebSocketProtocolError
from ..gateway.close_codes import GOING_AWAY

log = logging.getLogger("fluxlit.gateway")


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
            self.queue.put_nowait({"type": "websocket.disconnect", "code": GOING_AWAY})
            self.conn.send_close(GOING_AWAY, "server shutting down")
            self.transport.write(b"".join(self.conn.data_to_send()))
            self.transport.close()
            return
        super().shutdown()
