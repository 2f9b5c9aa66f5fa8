"""uvicorn's WebSocket protocol for the ASGI lane (API WebSockets, and proxied ones under ``--lane asgi``).

The websockets library parses and checks the client's frames here (1002 on a protocol error,
1009 over ``FLUXLIT_GATEWAY_WS_MAX_MESSAGE_BYTES``, 1007 for text that is not UTF-8); the
frame-inspector kernel is the parser of the fast lane only, so no client byte is parsed twice.
Shutdown closes with 1001 Going Away (uvicorn sends 1012).
"""

import logging

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

from ..gateway.close_codes import GOING_AWAY, INVALID_DATA

log = logging.getLogger("fluxlit.gateway")


class GatewayWebSocketProtocol(WebSocketsSansIOProtocol):
    """uvicorn's WebSocket protocol, closing with 1001 on shutdown and 1007 on text that is not UTF-8."""

    def send_receive_event_to_app(self) -> None:
        if self.curr_msg_data_type == "text" and not self.close_sent:
            try:
                b"".join(self.frames).decode()
            except UnicodeDecodeError:
                # A client error, not ours: one log line, no traceback (uvicorn logs one).
                log.warning("WebSocket closed 1007 for %s: text message is not valid UTF-8", self.client)
                self.frames = []
                self.conn.send_close(INVALID_DATA, "text message is not valid UTF-8")
                self.handle_parser_exception()
                return
        super().send_receive_event_to_app()

    def shutdown(self) -> None:
        if self.handshake_complete and not self.close_sent:
            self.stop_keepalive()
            self.queue.put_nowait({"type": "websocket.disconnect", "code": GOING_AWAY})
            self.conn.send_close(GOING_AWAY, "server shutting down")
            self.transport.write(b"".join(self.conn.data_to_send()))
            self.transport.close()
            return
        super().shutdown()
