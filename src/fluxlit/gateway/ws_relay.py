"""WebSocket relay to Streamlit: frames both ways, close codes preserved."""

import asyncio
import contextlib
import logging

import aiohttp
from starlette.types import Receive, Scope, Send

from ..metrics import note_upstream_error
from .close_codes import GOING_AWAY, INTERNAL_ERROR, sendable_close_code
from .headers import REQUEST_ID, upstream_headers_for
from .responses import TEXT, error_body
from .upstream import UPSTREAM_ERRORS, Upstream

log = logging.getLogger("fluxlit.gateway")

def offered_subprotocols(headers: list[tuple[bytes, bytes]]) -> list[str]:
    """Subprotocols the client offered, in order (Streamlit passes its tokens this way)."""
    offered: list[str] = []
    for name, value in headers:
        if name.lower() == b"sec-websocket-protocol":
            offered += [p.strip() for p in value.decode("latin-1").split(",") if p.strip()]
    return offered


async def _deny(scope: Scope, send: Send, status: int, reason: str, request_id: bytes) -> None:
    if "websocket.http.response" in scope.get("extensions", {}):
        body = error_body(status, reason, request_id)
        headers = [(b"content-type", TEXT), (REQUEST_ID, request_id)]
        await send({"type": "websocket.http.response.start", "status": status, "headers": headers})
        await send({"type": "websocket.http.response.body", "body": body})
    else:
        await send({"type": "websocket.close", "code": INTERNAL_ERROR, "reason": reason[:120]})


async def _client_to_upstream(receive: Receive, upstream_ws: aiohttp.ClientWebSocketResponse, client_gone: asyncio.Event) -> None:
    while True:
        message = await receive()
        if message["type"] == "websocket.receive":
            if message.get("bytes") is not None:
                await upstream_ws.send_bytes(message["bytes"])
            else:
                await upstream_ws.send_str(message["text"])
        elif message["type"] == "websocket.disconnect":
            client_gone.set()
            code = sendable_close_code(message.get("code"))
            await upstream_ws.close(code=code, message=(message.get("reason") or "").encode())
            return


async def _upstream_to_client(send: Send, upstream_ws: aiohttp.ClientWebSocketResponse, client_gone: asyncio.Event) -> None:
    try:
        await _forward_upstream(send, upstream_ws, client_gone)
    except OSError:
        # Sending to a client that already left: its own close is being relayed the other way.
        return


async def _forward_upstream(send: Send, upstream_ws: aiohttp.ClientWebSocketResponse, client_gone: asyncio.Event) -> None:
    while True:
        message = await upstream_ws.receive()
        if client_gone.is_set():
            return  # the client's side is closed (by it, or by the server on a protocol error): nothing more to send
        if message.type is aiohttp.WSMsgType.TEXT:
            await send({"type": "websocket.send", "text": message.data})
        elif message.type is aiohttp.WSMsgType.BINARY:
            await send({"type": "websocket.send", "bytes": message.data})
        elif message.type is aiohttp.WSMsgType.CLOSE:
            code = sendable_close_code(message.data)
            await send({"type": "websocket.close", "code": code, "reason": message.extra or ""})
            await upstream_ws.close(code=code)
            return
        else:
            # The upstream vanished without a close frame.
            await send({"type": "websocket.close", "code": INTERNAL_ERROR, "reason": "Streamlit connection lost"})
            return


async def relay_websocket(scope: Scope, receive: Receive, send: Send, upstream: Upstream, raw_path: bytes, request_id: bytes) -> None:
    """Open the upstream WebSocket first, then accept the client with the subprotocol Streamlit chose."""
    if (await receive())["type"] != "websocket.connect":
        return
    if reason := upstream.unavailable_reason():
        note_upstream_error()
        await _deny(scope, send, 502, reason, request_id)
        return
    headers = upstream_headers_for(scope, request_id, upstream.config.policy)
    try:
        upstream_ws = await upstream.session.ws_connect(
            upstream.url(raw_path, scope.get("query_string", b""), websocket=True),
            headers=headers,
            protocols=offered_subprotocols(scope["headers"]),
            autoclose=False,
            autoping=True,
            compress=0,
            # Streamlit is trusted and caps its own messages (server.maxMessageSize); the client side is
            # checked by the frame-inspector kernel against FLUXLIT_GATEWAY_WS_MAX_MESSAGE_BYTES.
            max_msg_size=0,
            timeout=aiohttp.ClientWSTimeout(ws_receive=None, ws_close=upstream.config.ws_close_timeout_s),
        )
    except aiohttp.WSServerHandshakeError as exc:
        await _deny(scope, send, exc.status, f"Streamlit refused the WebSocket ({exc.status})", request_id)
        return
    except UPSTREAM_ERRORS as exc:
        note_upstream_error()
        log.warning("websocket upstream error on %s: %s request_id=%s", scope["path"], exc, request_id.decode())
        await _deny(scope, send, 502, f"cannot reach the Streamlit upstream ({type(exc).__name__})", request_id)
        return
    try:
        await send({"type": "websocket.accept", "subprotocol": upstream_ws.protocol, "headers": [(REQUEST_ID, request_id)]})
        client_gone = asyncio.Event()
        tasks = [
            asyncio.ensure_future(_client_to_upstream(receive, upstream_ws, client_gone)),
            asyncio.ensure_future(_upstream_to_client(send, upstream_ws, client_gone)),
        ]
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        for task in done:
            if (exc := task.exception()) is None:
                continue
            if not isinstance(exc, UPSTREAM_ERRORS):
                raise exc
            note_upstream_error()
            log.warning("websocket upstream lost on %s: %s request_id=%s", scope["path"], exc, request_id.decode())
            with contextlib.suppress(Exception):  # the client may be gone too
                await send({"type": "websocket.close", "code": INTERNAL_ERROR, "reason": "Streamlit connection lost"})
    finally:
        with contextlib.suppress(*UPSTREAM_ERRORS):
            await upstream_ws.close(code=GOING_AWAY)
