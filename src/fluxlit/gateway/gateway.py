"""The ASGI gateway: one callable that routes to the API, the probes, the ops endpoints or the Streamlit proxy."""

import logging
from collections.abc import Awaitable, Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .._speedups import request_id_for, target_problem
from ..logging import DEFAULT_SENSITIVE_QUERY_KEYS, configure_logging
from ..metrics import GatewayMetrics, load_metrics
from ..settings import FluxlitSettings, SettingsError
from .debug import DEBUG_PATH, DebugState
from .headers import REQUEST_ID
from .http_proxy import proxy_http
from .observer import Observer
from .probes import LIVENESS, readiness
from .close_codes import POLICY_VIOLATION
from .responses import ALLOWED_METHODS, send_bytes, send_error, send_json
from .routing import Dispatch, Route, Router, under_prefix
from .trust import forwarded_scope
from .upstream import Upstream
from .ws_relay import relay_websocket

log = logging.getLogger("fluxlit.gateway")

ROUTE_CACHE_SIZE = 4096
"""Routing decisions remembered, by raw path."""

OpsEndpoint = Callable[[Scope, Send, bytes], Awaitable[None]]

DISPATCH_CLASS = {Dispatch.API: "api", Dispatch.STREAMLIT: "streamlit", Dispatch.HEALTHZ: "ops", Dispatch.READYZ: "ops", Dispatch.REFUSED: "ops"}


"""Bounded destination class of each route, for logs, metrics and the debug ring."""


def incoming_request_id(headers: list[tuple[bytes, bytes]]) -> bytes | None:
    """The client's ``X-Request-ID`` value, if it sent one."""
    for name, value in headers:
        if name.lower() == REQUEST_ID:
            return value
    return None


class Gateway:
    """Routes ``{root}{mount}/...`` to the in-process API and everything else to Streamlit.

    Observability is decided once, here: with access log, request logging, metrics and debug all
    off, a request pays for nothing but a dictionary lookup of its path.
    """

    def __init__(self, api: ASGIApp, settings: FluxlitSettings, upstream: Upstream) -> None:
        self.api = api
        self.settings = settings
        self.upstream = upstream
        self.config = upstream.config
        self.spliced = 0
        """Requests and WebSockets the edge has spliced (the fast lane), for the debug snapshot."""
        self._routes: dict[bytes, Route] = {}
        # Only a gateway that trusts some proxy lets the API see forwarded addresses.
        self._trusts_proxies = settings.trust_proxy
        self.router = Router(settings.root_path, settings.api_mount_path)
        configure_logging(settings)
        self.metrics: GatewayMetrics | None = load_metrics() if settings.enable_gateway_prometheus_metrics else None
        """Counters and histograms (``None`` when ``FLUXLIT_ENABLE_GATEWAY_PROMETHEUS_METRICS`` is off)."""
        self.debug: DebugState | None = (
            DebugState(settings, upstream, snapshot_served=not under_prefix(DEBUG_PATH, settings.api_mount_path)) if settings.debug else None
        )
        self._ops = self._ops_endpoints()
        access = settings.enable_gateway_access_log or settings.debug
        api_requests = settings.enable_request_logging or settings.debug
        tracer = None
        if settings.otel_tracing:
            from ..tracing import GatewayTracer  # OpenTelemetry is imported only when asked for

            tracer = GatewayTracer()
        self.observer: Observer | None = (
            Observer(
                access=access,
                api_requests=api_requests,
                metrics=self.metrics,
                recent=self.debug.recent if self.debug else None,
                sensitive_query_keys=(*DEFAULT_SENSITIVE_QUERY_KEYS, settings.url_session_query_param),
                tracer=tracer,
            )
            if access or api_requests or self.metrics is not None or self.debug is not None or tracer is not None
            else None
        )

    def _ops_endpoints(self) -> dict[str, OpsEndpoint]:
        # Ops paths are answered by the gateway even when off (404), so they never reach Streamlit,
        # unless the API mount covers them: then they belong to the API.
        s = self.settings
        endpoints: dict[str, OpsEndpoint] = {"*": _serve_asterisk}
        metrics_path = s.gateway_prometheus_metrics_path
        if not under_prefix(metrics_path, s.api_mount_path):
            endpoints[metrics_path] = endpoints[s.root_path + metrics_path] = self._serve_metrics
        elif self.metrics is not None:
            raise SettingsError(
                f"FLUXLIT_GATEWAY_PROMETHEUS_METRICS_PATH={metrics_path!r} sits under the API mount {s.api_mount_path!r}, "
                "where the API would shadow it; choose a path outside the mount (default /__fluxlit/metrics)"
            )
        if not under_prefix(DEBUG_PATH, s.api_mount_path):
            endpoints[DEBUG_PATH] = endpoints[s.root_path + DEBUG_PATH] = self._serve_debug
        elif self.debug is not None:
            log.warning("debug snapshot disabled: the API mount %r shadows %s", s.api_mount_path, DEBUG_PATH)
        return endpoints

    def proxied(self, path: str, raw_path: bytes) -> bytes | None:
        """The upstream path when a request for ``path`` goes to Streamlit, else ``None`` (the edge asks
        before any ASGI message exists)."""
        if path in self._ops:
            return None
        route = self.route(path, raw_path)
        return route.raw_path if route.dispatch is Dispatch.STREAMLIT else None

    def route(self, path: str, raw_path: bytes | None) -> Route:
        """``Router.route``, remembered by raw path (the path decides alone); refused paths route nowhere.

        The edge refuses such targets before routing; this guards the gateway under any ASGI server.
        """
        if raw_path is None:
            return self.router.route(path, raw_path)
        route = self._routes.get(raw_path)
        if route is None:
            refused = target_problem(raw_path)
            route = Route(Dispatch.REFUSED, path, raw_path, reason=refused) if refused else self.router.route(path, raw_path)
            if len(self._routes) < ROUTE_CACHE_SIZE:
                self._routes[raw_path] = route
        return route

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind not in ("http", "websocket"):
            return
        request_id = request_id_for(incoming_request_id(scope["headers"]))
        endpoint = self._ops.get(scope["path"])
        route = None if endpoint is not None else self.route(scope["path"], scope.get("raw_path"))
        if self.observer is None:
            await self._dispatch(scope, receive, send, request_id, route, endpoint)
            return
        dispatch = "ops" if route is None else DISPATCH_CLASS[route.dispatch]
        with self.observer.exchange(scope, receive, send, dispatch, request_id) as exchange:
            await self._dispatch(scope, exchange.receive, exchange.send, request_id, route, endpoint)

    async def _dispatch(
        self, scope: Scope, receive: Receive, send: Send, request_id: bytes, route: Route | None, endpoint: OpsEndpoint | None
    ) -> None:
        kind = scope["type"]
        if route is not None and route.dispatch is Dispatch.STREAMLIT:
            forward = proxy_http if kind == "http" else relay_websocket
            await forward(scope, receive, send, self.upstream, route.raw_path, request_id)
        elif route is not None and route.dispatch is Dispatch.API:
            api_scope = {**scope, "path": route.path, "raw_path": route.raw_path, "root_path": route.root_path,
                         "headers": _with_request_id(scope["headers"], request_id)}  # fmt: skip
            if self._trusts_proxies:
                # Behind a trusted proxy the API sees the browser's address and scheme (FLUXLIT_TRUST_PROXY).
                api_scope.update(forwarded_scope(scope, self.config.policy.proxies))
            await self.api(api_scope, receive, _stamp_request_id(send, request_id))
        elif kind == "websocket":
            await send({"type": "websocket.close", "code": POLICY_VIOLATION, "reason": "this path is HTTP only"})
        elif endpoint is not None:
            await endpoint(scope, send, request_id)
        elif route is not None and route.dispatch is Dispatch.REFUSED:
            log.warning("400 for %r: %s request_id=%s", route.raw_path, route.reason, request_id.decode())
            await send_error(send, 400, route.reason, request_id, close=True)
        elif route is not None and route.dispatch is Dispatch.HEALTHZ:
            await send_json(send, 200, LIVENESS, request_id)
        else:
            status, payload = await readiness(self.upstream, self.settings.root_path)
            await send_json(send, status, payload, request_id)

    async def _serve_metrics(self, scope: Scope, send: Send, request_id: bytes) -> None:
        if self.metrics is None:
            await _not_found(send, request_id)
            return
        body, content_type = self.metrics.render()
        await send_bytes(send, 200, body, content_type.encode(), request_id)

    async def _serve_debug(self, scope: Scope, send: Send, request_id: bytes) -> None:
        if self.debug is None:
            await _not_found(send, request_id)
            return
        await send_json(send, 200, self.debug.snapshot(spliced=self.spliced), request_id)


async def _serve_asterisk(scope: Scope, send: Send, request_id: bytes) -> None:
    """``OPTIONS *`` asks the server what it supports; any other method with ``*`` is malformed."""
    if scope["method"] == "OPTIONS":
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"allow", ALLOWED_METHODS), (b"content-length", b"0"), (REQUEST_ID, request_id)]})  # fmt: skip
        await send({"type": "http.response.body", "body": b""})
    else:
        await send_error(send, 400, f"the * request target is for OPTIONS only, not {scope['method']}", request_id, close=True)


async def _not_found(send: Send, request_id: bytes) -> None:
    await send_bytes(send, 404, b"Not Found\n", b"text/plain; charset=utf-8", request_id)


def _with_request_id(headers: list[tuple[bytes, bytes]], request_id: bytes) -> list[tuple[bytes, bytes]]:
    """The request's headers with exactly one ``X-Request-ID``, the gateway's."""
    if all(name.lower() != REQUEST_ID for name, _ in headers):
        return [*headers, (REQUEST_ID, request_id)]
    return [*((n, v) for n, v in headers if n.lower() != REQUEST_ID), (REQUEST_ID, request_id)]


def _stamp_request_id(send: Send, request_id: bytes) -> Send:
    async def stamped(message: Message) -> None:
        if message["type"] in ("http.response.start", "websocket.accept"):
            headers = [(n, v) for n, v in message.get("headers", []) if n.lower() != REQUEST_ID]
            message = {**message, "headers": [*headers, (REQUEST_ID, request_id)]}
        await send(message)

    return stamped
