"""The ASGI gateway: one callable that routes to the API, the probes or the Streamlit proxy."""

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .._speedups import request_id_for
from ..settings import FluxlitSettings
from .headers import REQUEST_ID
from .http_proxy import proxy_http
from .probes import LIVENESS, readiness
from .responses import send_json
from .routing import Dispatch, Router
from .upstream import Upstream
from .ws_relay import relay_websocket


def incoming_request_id(headers: list[tuple[bytes, bytes]]) -> bytes | None:
    """The client's ``X-Request-ID`` value, if it sent one."""
    for name, value in headers:
        if name.lower() == REQUEST_ID:
            return value
    return None


class Gateway:
    """Routes ``{root}{mount}/...`` to the in-process API and everything else to Streamlit."""

    def __init__(self, api: ASGIApp, settings: FluxlitSettings, upstream: Upstream) -> None:
        self.api = api
        self.settings = settings
        self.upstream = upstream
        self.router = Router(settings.root_path, settings.api_mount_path)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind not in ("http", "websocket"):
            return
        request_id = request_id_for(incoming_request_id(scope["headers"]))
        route = self.router.route(scope["path"], scope.get("raw_path"))
        if route.dispatch is Dispatch.STREAMLIT:
            forward = proxy_http if kind == "http" else relay_websocket
            await forward(scope, receive, send, self.upstream, route.raw_path, request_id)
        elif route.dispatch is Dispatch.API:
            headers = [(n, v) for n, v in scope["headers"] if n.lower() != REQUEST_ID]
            headers.append((REQUEST_ID, request_id))
            api_scope = {**scope, "path": route.path, "raw_path": route.raw_path, "root_path": route.root_path, "headers": headers}
            await self.api(api_scope, receive, _stamp_request_id(send, request_id))
        elif kind == "websocket":
            await send({"type": "websocket.close", "code": 1008, "reason": "probes are HTTP only"})
        elif route.dispatch is Dispatch.HEALTHZ:
            await send_json(send, 200, LIVENESS, request_id)
        else:
            status, payload = await readiness(self.upstream, self.settings.root_path)
            await send_json(send, status, payload, request_id)


def _stamp_request_id(send: Send, request_id: bytes) -> Send:
    async def stamped(message: Message) -> None:
        if message["type"] in ("http.response.start", "websocket.accept"):
            headers = [(n, v) for n, v in message.get("headers", []) if n.lower() != REQUEST_ID]
            message = {**message, "headers": [*headers, (REQUEST_ID, request_id)]}
        await send(message)

    return stamped
