"""What the gateway records about each request once it ends: access log, API request log, metrics, debug ring, spans."""

import logging
import time
from collections import deque
from contextvars import Token
from types import TracebackType
from typing import TYPE_CHECKING

from starlette.types import Message, Receive, Scope, Send

from ..logging import ACCESS_LOGGER, API_LOGGER, DEFAULT_SENSITIVE_QUERY_KEYS, redact_query_string
from ..metrics import GatewayMetrics, status_class
from .close_codes import ABNORMAL, INTERNAL_ERROR, NO_STATUS

if TYPE_CHECKING:
    from ..tracing import GatewayTracer

access_log = logging.getLogger(ACCESS_LOGGER)
api_log = logging.getLogger(API_LOGGER)

CLIENT_CLOSED_REQUEST = 499
"""Logged status of an HTTP request whose client left before any response (nginx's convention)."""


class Observer:
    """The recorders a gateway has turned on; ``exchange()`` watches one request."""

    def __init__(
        self,
        *,
        access: bool,
        api_requests: bool,
        metrics: GatewayMetrics | None,
        recent: deque[dict[str, object]] | None,
        sensitive_query_keys: tuple[str, ...] = DEFAULT_SENSITIVE_QUERY_KEYS,
        tracer: "GatewayTracer | None" = None,
    ) -> None:
        self.access = access
        self.tracer = tracer
        self.sensitive_query_keys = sensitive_query_keys
        self.api_requests = api_requests
        self.metrics = metrics
        self.recent = recent

    def record(self, scope: Scope, dispatch: str, request_id: bytes) -> "Exchange":
        """An open record of a request the edge serves itself; it sets ``status``/``bytes_sent`` and exits it at the end."""
        exchange = Exchange(self, scope, None, None, dispatch, request_id)  # type: ignore[arg-type]
        exchange.bind = False  # callbacks of two connections run in different contexts
        exchange.completed = True  # the edge reports a cut-off response by failing the record
        return exchange.__enter__()

    def exchange(self, scope: Scope, receive: Receive, send: Send, dispatch: str, request_id: bytes) -> "Exchange":
        """A context manager around one request: serve it with the exchange's ``receive``/``send``."""
        return Exchange(self, scope, receive, send, dispatch, request_id)


class Exchange:
    """One request as the gateway saw it: status or close code, bytes sent, duration."""

    __slots__ = ("_inner_receive", "_inner_send", "_token", "accepted", "bind", "bytes_sent", "close_code", "completed", "dispatch",
                 "failed", "observer", "receive", "request_id", "scope", "send", "started", "status", "websocket")  # fmt: skip

    def __init__(self, observer: Observer, scope: Scope, receive: Receive, send: Send, dispatch: str, request_id: bytes) -> None:
        self.observer = observer
        self.scope = scope
        self.dispatch = dispatch
        self.request_id = request_id
        self.websocket = scope["type"] == "websocket"
        self.status = 0
        self.close_code: int | None = None
        self.accepted = False
        self.bytes_sent = 0
        self.failed = False
        self.completed = False
        """The response's last body message went out (an HTTP response ending without it was cut off)."""
        self.started = 0.0
        self._token: Token[GatewayMetrics | None] | None = None
        self.bind = True
        self._inner_receive = receive
        self._inner_send = send
        # Only a WebSocket's end shows on the receive side (the client's close code).
        self.receive: Receive = self._watch_receive if self.websocket else receive
        self.send: Send = self._watch_send

    async def _watch_receive(self) -> Message:
        message = await self._inner_receive()
        if message["type"] == "websocket.disconnect" and self.close_code is None:
            self.close_code = message.get("code") or NO_STATUS
        return message

    async def _watch_send(self, message: Message) -> None:
        kind = message["type"]
        if kind == "http.response.body" or kind == "websocket.http.response.body":
            self.bytes_sent += len(message.get("body", b""))
            self.completed = not message.get("more_body", False)
        elif kind == "http.response.start" or kind == "websocket.http.response.start":
            self.status = message["status"]
        elif kind == "websocket.send":
            text = message.get("text")
            self.bytes_sent += len(message.get("bytes") or b"") if text is None else len(text.encode())
        elif kind == "websocket.accept":
            self.accept()
        elif kind == "websocket.close" and self.close_code is None:
            self.close_code = message.get("code", 1000)
        await self._inner_send(message)

    def accept(self) -> None:
        """The WebSocket was accepted (counted as open until it ends)."""
        self.accepted = True
        if self.observer.metrics is not None:
            self.observer.metrics.websockets.inc()

    def __enter__(self) -> "Exchange":
        metrics = self.observer.metrics
        if metrics is not None:
            if self.bind:
                self._token = metrics.bind()
            if not self.websocket:
                metrics.in_flight.inc()
        self.started = time.perf_counter()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        duration = time.perf_counter() - self.started
        self.failed = exc_type is not None
        observer = self.observer
        code = self.logged_status()
        if (metrics := observer.metrics) is not None:
            if self._token is not None:
                metrics.unbind(self._token)
            if self.websocket:
                if self.accepted:
                    metrics.websockets.dec()
            else:
                metrics.in_flight.dec()
            metrics.request_finished(self.dispatch, self.status_class(code), duration)
        if observer.access or observer.api_requests or observer.recent is not None:
            self._record(code, duration)
        if observer.tracer is not None:
            method, path = self._method_path()
            observer.tracer.finished(
                self.scope, dispatch=self.dispatch, method=method, path=path, code=code, request_id=self.request_id.decode("ascii"), duration=duration
            )

    def logged_status(self) -> int:
        """HTTP status, or the WebSocket close code (the HTTP status when the handshake was denied)."""
        if self.status:
            return self.status
        if self.websocket:
            if self.close_code is not None:
                return self.close_code
            return INTERNAL_ERROR if self.failed else ABNORMAL
        return 500 if self.failed else CLIENT_CLOSED_REQUEST

    @property
    def aborted(self) -> bool:
        """An HTTP response that started but was cut off (the client saw the connection drop)."""
        return not self.websocket and bool(self.status) and (self.failed or not self.completed)

    def status_class(self, code: int) -> str:
        """Metrics label: ``ws`` for an accepted WebSocket, else the class of the HTTP answer."""
        if self.websocket and not self.status:
            # A WebSocket closed before acceptance is answered 403 by the server, or 500 when it failed.
            return "ws" if self.accepted else "5xx" if self.failed else "4xx"
        return status_class(code)

    def _method_path(self) -> tuple[str, str]:
        scope = self.scope
        raw = scope.get("raw_path")
        return "WEBSOCKET" if self.websocket else scope["method"], raw.decode("latin-1") if raw is not None else scope["path"]

    def _record(self, code: int, duration: float) -> None:
        observer, scope = self.observer, self.scope
        method, path = self._method_path()
        request_id = self.request_id.decode("ascii")
        if observer.access and access_log.isEnabledFor(logging.INFO):
            query = redact_query_string(scope.get("query_string", b""), observer.sensitive_query_keys)
            client = scope.get("client")
            duration_ms = round(duration * 1000, 3)
            aborted = self.aborted
            access_log.info(
                '%s "%s %s" %d %dB %.1fms %s request_id=%s%s',
                client[0] if client else "-",
                method,
                path + "?" + query if query else path,
                code,
                self.bytes_sent,
                duration_ms,
                self.dispatch,
                request_id,
                " aborted" if aborted else "",
                extra={
                    "client": client[0] if client else None,
                    "method": method,
                    "path": path,
                    "query": query,
                    "status": code,
                    "bytes_sent": self.bytes_sent,
                    "duration_ms": duration_ms,
                    "dispatch": self.dispatch,
                    "request_id": request_id,
                    "aborted": aborted,
                },
            )
        if observer.api_requests and self.dispatch == "api" and api_log.isEnabledFor(logging.INFO):
            api_log.info("%s %s -> %d", method, path, code, extra={"request_id": request_id})
        if observer.recent is not None:
            observer.recent.append({"request_id": request_id, "dispatch": self.dispatch, "method": method, "path": path, "status": code})
