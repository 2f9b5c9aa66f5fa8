"""The edge: FluxLit's HTTP/1.1 server connection over httptools, and the lane decision.

One class owns the client connection under ``fluxlit run``. It enforces the connection-level
rules (header read deadline, head size and count caps, head validation by the header-policy
kernel, dropped chunked trailers, pipelining order) and, once a request head is complete and
before any ASGI message exists, routes it: proxied paths to the splice lane (``HttpSplice``,
``WebSocketSplice``), the API and ops paths to uvicorn's ASGI cycle. What llhttp refuses itself
(Content-Length with Transfer-Encoding, bad bytes, obs-fold, bare LF) is answered 400 here.
"""

import asyncio
import contextvars
import logging
import re
import urllib.parse
from typing import Any

import httptools
from uvicorn.config import Config
from uvicorn.protocols.http.flow_control import HIGH_WATER_LIMIT, FlowControl
from uvicorn.protocols.http.httptools_impl import RequestResponseCycle
from uvicorn.protocols.utils import get_local_addr, get_remote_addr, is_ssl
from uvicorn.server import ServerState

from .._speedups import head_problem, mint_request_id, upstream_head
from ..gateway import Gateway
from ..gateway.responses import raw_error
from ..gateway.config import Lane
from ..gateway.observer import Exchange as Record
from .splice import HttpSplice
from .websocket import WebSocketSplice

log = logging.getLogger("fluxlit.gateway")


class _Closing(Exception):
    """Raised from a parser callback: the connection is closing, so the bytes behind are not parsed."""


NOT_SERVED = {b"CONNECT": "CONNECT is not served: FluxLit is a reverse proxy, not a forward proxy",
              b"TRACE": "TRACE is not served: it would echo the request, cookies included"}  # fmt: skip
"""Methods answered 405 at the edge, never forwarded."""


class RequestRejected(Exception):
    """Raised from a parser callback: answer ``status`` and close the connection."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


_defaults: list[object] = [(), b""]
"""uvicorn's default header list (it replaces it every second) and its lines as bytes."""


def _decoded(raw_path: bytes) -> str:
    """The path as routing compares it: percent-decoded, as the ASGI scope has it."""
    try:
        path = raw_path.decode("ascii")
    except UnicodeDecodeError:
        raise RequestRejected(400, "bytes outside ASCII in the request target; percent-encode them") from None
    return urllib.parse.unquote(path) if "%" in path else path


def _request_line_ok(line: bytes, method: bytes, url: bytes) -> bool:
    """Whether the request line in ``line`` has single spaces (llhttp tolerates runs of them)."""
    if line.startswith(method + b" " + url + b" HTTP/"):
        return True  # the head starts the bytes read: the common case
    # The head starts further in (pipelined, or after a keep-alive body): find its line.
    found = None
    for found in re.finditer(rb"(?:^|\n)" + re.escape(method) + rb"( +)" + re.escape(url) + rb"( +)HTTP/", line):
        pass
    return found is None or found.end(1) - found.start(1) == found.end(2) - found.start(2) == 1


def _split(url: bytes) -> tuple[bytes, bytes]:
    """Path and query of a request target as received."""
    if url[:1] == b"/" and b"?" not in url and b"#" not in url:
        return url, b""  # the common origin-form target needs no URL parser
    parsed = httptools.parse_url(url)
    return parsed.path, parsed.query or b""


def gateway_of(app: Any) -> Gateway:
    """The gateway of the FluxLit app uvicorn serves (under whatever middleware uvicorn wrapped it in)."""
    while not isinstance(getattr(app, "gateway", None), Gateway):
        app = app.app
    return app.gateway


class EdgeProtocol(asyncio.Protocol):
    """One client connection: parse heads, apply the head rules, splice or hand to the ASGI cycle."""

    # Slots: an idle proxied WebSocket keeps this object for its whole life.
    __slots__ = ("_awaiting_head", "_closing", "_deadline", "_deadline_at", "_deferred", "_feeding", "_head_started", "_line",
                 "_progress", "_stalled_bytes", "allowlist", "app", "app_state", "client", "client_host", "client_paused", "config", "current",
                 "flow", "gateway", "gateway_config", "headers", "loop", "parser", "pool", "queue", "receiving", "scheme",
                 "server_state", "splices", "transport", "trusted", "underscores", "upstream", "url")  # fmt: skip

    def __init__(self, config: Config, server_state: ServerState, app_state: dict[str, Any], _loop: asyncio.AbstractEventLoop | None = None) -> None:  # fmt: skip
        if not config.loaded:
            config.load()
        self.config = config
        gateway = gateway_of(config.loaded_app)
        # The FluxLit object only adds the lifespan to its gateway: HTTP goes to the gateway itself,
        # unless uvicorn wrapped the app (trace logging), whose wrapper then stays in the path.
        self.app = gateway if getattr(config.loaded_app, "gateway", None) is gateway else config.loaded_app
        self.loop = _loop or asyncio.get_event_loop()
        self.server_state = server_state
        self.app_state = app_state
        self.gateway = gateway
        self.gateway_config = gateway.config
        self.upstream = gateway.upstream
        self.pool = gateway.upstream.pool
        self.splices = gateway.config.lane is Lane.FAST
        self.parser = httptools.HttpRequestParser(self)
        self.parser.set_dangerous_leniencies(lenient_data_after_close=True)
        self.transport: asyncio.Transport = None  # type: ignore[assignment]
        self.flow: FlowControl | None = None
        self.client: tuple[str, int] | None = None
        self.scheme = "http"
        # The request whose response is being written, the requests queued behind it, and the
        # request whose head or body is being parsed (the newest one).
        self.current: HttpSplice | RequestResponseCycle | WebSocketSplice | None = None
        self.queue: list[HttpSplice | RequestResponseCycle] = []
        self.receiving: HttpSplice | RequestResponseCycle | None = None
        self.url = b""
        self.headers: list[tuple[bytes, bytes]] = []
        self.client_paused = False
        self.trusted = False
        self.client_host: str | None = None
        self.allowlist = gateway.config.policy.allowlist
        self.underscores = gateway.config.policy.underscores
        # The bytes being fed, and those that hold the current request line until it is checked.
        self._feeding = b""
        self._line = b""
        self._deadline: asyncio.TimerHandle | None = None
        self._deadline_at = 0.0
        self._awaiting_head = True
        self._head_started = False
        self._progress = False
        self._stalled_bytes = 0
        self._deferred: tuple[int, str] | None = None
        self._closing = False

    # asyncio callbacks
    def connection_made(self, transport: asyncio.BaseTransport) -> None:  # type: ignore[override]
        self.server_state.connections.add(self)  # type: ignore[arg-type]
        self.transport = transport  # type: ignore[assignment]
        self.client = get_remote_addr(transport)  # type: ignore[arg-type]
        self.scheme = "https" if is_ssl(transport) else "http"  # type: ignore[arg-type]
        # The peer is the peer for the whole connection: its trust is decided once.
        self.client_host = self.client[0] if self.client else None
        self.trusted = self.gateway_config.policy.proxies.trusts(self.client_host)
        self._arm_deadline()

    def connection_lost(self, exc: Exception | None) -> None:
        self.server_state.connections.discard(self)  # type: ignore[arg-type]
        self._stop_deadline()
        self._abandon_requests()
        if self.flow is not None:
            self.flow.resume_writing()
        self.parser = None  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        current = self.current
        if type(current) is WebSocketSplice:
            current.from_client(data)
            return
        if self._deferred is not None or self.parser is None:
            return
        self._progress = False
        if self._line and len(self._line) <= self.gateway_config.head.max_bytes:
            self._line += data  # a request line still arriving
        self._feeding = data
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade as upgrade:
            self._upgrade(data[upgrade.args[0] :])
            return
        except httptools.HttpParserError as exc:
            cause = exc.__context__
            if isinstance(cause, _Closing):
                return
            if isinstance(cause, RequestRejected):
                self.reject(cause.status, cause.reason)
            elif cause is not None:
                log.error("gateway error while parsing a request from %s", self.client, exc_info=cause)
                self.reject(500, "the gateway failed to handle the request")
            else:
                self.reject(400, f"malformed request ({exc})")
            return
        finally:
            self._feeding = b""
        # A header block that never ends, or a trailer section that never ends, arrives as feeds
        # without progress; httptools buffers a header field until it is complete, so bound it here.
        if self._progress:
            self._stalled_bytes = 0
        else:
            self._stalled_bytes += len(data)
            limit = self.gateway_config.head.max_bytes
            if self._stalled_bytes > limit:
                self.reject(431, f"header block over {limit} bytes (FLUXLIT_GATEWAY_MAX_HEADER_BYTES)")

    def pause_writing(self) -> None:
        if self.flow is not None:
            self.flow.pause_writing()
        if self.current is not None and not isinstance(self.current, RequestResponseCycle):
            self.current.client_paused(True)

    def resume_writing(self) -> None:
        if self.flow is not None:
            self.flow.resume_writing()
        if self.current is not None and not isinstance(self.current, RequestResponseCycle):
            self.current.client_paused(False)

    # httptools callbacks
    def on_message_begin(self) -> None:
        if self.transport.is_closing():
            raise _Closing  # an answer closed the connection (413 up front, say): what follows is not read
        self._progress = self._head_started = True
        self.url = b""
        self.headers = []
        self._line = self._feeding

    def on_url(self, url: bytes) -> None:
        self.url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        if self._awaiting_head:
            # llhttp keeps trailing whitespace, which is not part of a field value.
            self.headers.append((name.lower(), value.rstrip(b" \t")))
        # Otherwise it is a chunked trailer: dropped, never turned into a request header.

    def on_headers_complete(self) -> None:
        self._progress = True
        self._head_started = False
        self._deadline_at = 0.0  # the head is complete
        parser = self.parser
        version = parser.get_http_version()
        limits = self.gateway_config.head
        if problem := head_problem(self.url, self.headers, version, limits.max_bytes, limits.max_count):
            raise RequestRejected(*problem)
        line, self._line = self._line, b""
        if not _request_line_ok(line, parser.get_method(), self.url):
            raise RequestRejected(400, "more than one space between the parts of the request line")
        if version == "1.0" and any(name == b"upgrade" and value.lower() == b"websocket" for name, value in self.headers):
            raise RequestRejected(400, "WebSocket upgrade over HTTP/1.0; WebSockets need HTTP/1.1")
        if (not_served := NOT_SERVED.get(parser.get_method())) is not None:
            raise RequestRejected(405, not_served)
        self._awaiting_head = False
        if parser.should_upgrade() and self._websocket_upgrade():
            return  # handled once the parser stops at the upgrade
        raw_path, query = _split(self.url)
        path = _decoded(raw_path)
        keep_alive = version != "1.0" and parser.should_keep_alive() and not parser.should_upgrade()
        target = self._spliced_target(path, raw_path, query)
        if target is not None:
            item: HttpSplice | RequestResponseCycle = self._splice(parser.get_method(), target, version, keep_alive)
        else:
            item = self._cycle(path, raw_path, query, version, keep_alive)
        self.receiving = item
        if self.current is None:
            self.current = item
            self._start(item)
        else:
            # A pipelined request waits for the responses before it; stop reading meanwhile.
            self.queue.append(item)
            self.pause_client(True)

    def on_body(self, body: bytes) -> None:
        self._progress = True
        item = self.receiving
        if type(item) is HttpSplice:
            item.body(body)
        elif item is not None and not item.response_complete:
            item.body += body
            if len(item.body) > HIGH_WATER_LIMIT:
                self.pause_client(True)
            item.message_event.set()

    def on_message_complete(self) -> None:
        self._progress = self._awaiting_head = True
        item = self.receiving
        if self.current is None:
            self._arm_deadline()  # the body of a request answered early has been read: idle now
        if type(item) is HttpSplice:
            item.end_of_body()
        elif item is not None and not item.response_complete:
            item.more_body = False
            item.message_event.set()

    # lanes
    def _splice(self, method: bytes, target: bytes, version: str, keep_alive: bool) -> HttpSplice:
        head, request_id, length, expect = upstream_head(method, target, self.headers, self.client_host, self.scheme, False,
                                                         self.trusted, self.allowlist, self.upstream.host_header,
                                                         self.underscores)  # fmt: skip
        self.gateway.spliced += 1
        splice = HttpSplice(self, head, request_id, length, keep_alive, self._record(method, request_id))
        if version != "1.1":
            splice.client_http11 = False
        if method == b"HEAD":
            splice.is_head = True
        if expect and version == "1.1":  # an HTTP/1.0 client does not know 100 Continue
            splice.expect_continue = True
        return splice

    def _start(self, item: "HttpSplice | RequestResponseCycle") -> None:
        if type(item) is HttpSplice:
            item.start()
            return
        task = self.loop.create_task(item.run_asgi(self.app), context=contextvars.Context()) if self.config.reset_contextvars else self.loop.create_task(item.run_asgi(self.app))  # type: ignore[arg-type]  # fmt: skip
        task.add_done_callback(self.server_state.tasks.discard)
        self.server_state.tasks.add(task)

    def _scope(self, path: str, raw_path: bytes, query: bytes, version: str, method: str) -> dict[str, Any]:
        return {
            "type": "http",
            "asgi": {"version": self.config.asgi_version, "spec_version": "2.3"},
            "http_version": version,
            "server": get_local_addr(self.transport),  # type: ignore[arg-type]
            "client": self.client,
            "scheme": self.scheme,
            "method": method,
            "root_path": self.config.root_path,
            "path": self.config.root_path + path,
            "raw_path": self.config.root_path.encode("ascii") + raw_path,
            "query_string": query,
            "headers": self.headers,
            "state": self.app_state.copy(),
        }

    def _cycle(self, path: str, raw_path: bytes, query: bytes, version: str, keep_alive: bool) -> RequestResponseCycle:
        if self.flow is None:
            self.flow = FlowControl(self.transport)
            self.flow.read_paused = self.client_paused
        scope = self._scope(path, raw_path, query, version, self.parser.get_method().decode("ascii"))
        expect = version == "1.1" and any(name == b"expect" and value.lower() == b"100-continue" for name, value in self.headers)
        return RequestResponseCycle(
            scope=scope,  # type: ignore[arg-type]
            transport=self.transport,
            flow=self.flow,
            logger=log,
            access_logger=log,
            access_log=False,
            default_headers=self.server_state.default_headers,
            message_event=asyncio.Event(),
            expect_100_continue=expect,
            keep_alive=keep_alive,
            on_response=self._cycle_done,
        )

    def _record(self, method: bytes, request_id: bytes, websocket: bool = False) -> "Record | None":
        """The observer's record of a spliced request (``None`` when nothing observes)."""
        observer = self.gateway.observer
        if observer is None:
            return None
        raw_path, query = _split(self.url)
        scope = {"type": "websocket" if websocket else "http", "method": method.decode("ascii"), "path": raw_path.decode("latin-1"),
                 "raw_path": raw_path, "query_string": query, "client": self.client, "headers": self.headers}  # fmt: skip
        return observer.record(scope, "streamlit", request_id)

    def _spliced_target(self, path: str, raw_path: bytes, query: bytes) -> bytes | None:
        """The upstream request target when the fast lane splices this path, else ``None``."""
        upstream_path = self.gateway.proxied(path, raw_path) if self.splices else None
        if upstream_path is None:
            return None
        # Path and query as received (the root path an edge proxy stripped restored), in origin form:
        # an absolute-form target's authority or an empty "?" does not reach Streamlit.
        return upstream_path + b"?" + query if query else upstream_path

    def _websocket_upgrade(self) -> bool:
        upgrade = connection = b""
        for name, value in self.headers:
            if name == b"upgrade":
                upgrade = value.lower()
            elif name == b"connection":
                connection = value.lower()
        return upgrade == b"websocket" and b"upgrade" in connection

    def _upgrade(self, rest: bytes) -> None:
        if not self._websocket_upgrade():
            # Another upgrade (h2c): served as plain HTTP without it; the parser stops here, so close after.
            if self.receiving is not None:
                self.receiving.keep_alive = False
            return
        if self.current is not None:
            self._deferred = (400, "WebSocket upgrade pipelined behind another request")
            return
        raw_path, query = _split(self.url)
        try:
            path = _decoded(raw_path)
        except RequestRejected as exc:
            self.reject(exc.status, exc.reason)
            return
        target = self._spliced_target(path, raw_path, query)
        if target is not None:
            self._splice_websocket(target, rest)
        else:
            self._asgi_websocket(rest)

    def _splice_websocket(self, target: bytes, rest: bytes) -> None:
        head, request_id, _, _ = upstream_head(self.parser.get_method(), target, self.headers, self.client_host, self.scheme, True,
                                               self.trusted, self.allowlist, self.upstream.host_header, self.underscores)  # fmt: skip
        self.gateway.spliced += 1
        record = self._record(b"GET", request_id, websocket=True)
        # From here on the connection carries frames: nothing of the HTTP parse, and no timer, is kept.
        self.parser = None  # type: ignore[assignment]
        self.headers = []
        self.receiving = None
        self._stop_deadline()
        self.current = WebSocketSplice(self, head, request_id, rest, record)
        self.current.start()

    def _asgi_websocket(self, rest: bytes) -> None:
        # uvicorn's WebSocket protocol takes over the transport and replays the handshake.
        self.server_state.connections.discard(self)  # type: ignore[arg-type]
        self._stop_deadline()
        output = [self.parser.get_method(), b" ", self.url, b" HTTP/1.1\r\n"]
        for name, value in self.headers:
            output += [name, b": ", value, b"\r\n"]
        output += [b"\r\n", rest]
        protocol = self.config.ws_protocol_class(config=self.config, server_state=self.server_state, app_state=self.app_state)  # type: ignore[misc,call-arg]
        protocol.connection_made(self.transport)
        self.transport.set_protocol(protocol)
        protocol.data_received(b"".join(output))

    # completion and flow
    def _cycle_done(self) -> None:
        self.item_done(self.current)  # type: ignore[arg-type]

    def item_done(self, item: object) -> None:
        """The response of ``item`` is complete (or it ended): start the next request, or close."""
        if item is not self.current:
            return
        self.server_state.total_requests += 1
        self.current = None
        if self.transport.is_closing():
            return
        if not getattr(item, "keep_alive", False) or self._closing:
            self.transport.close()
            return
        if self.queue:
            self.current = self.queue.pop(0)
            self._start(self.current)
            if not self.queue:
                self.pause_client(False)
            return
        if self._deferred is not None:
            self.reject(*self._deferred)
            return
        if self.client_paused:
            self.pause_client(False)
        if self._awaiting_head:
            self._arm_deadline()

    def pause_client(self, paused: bool) -> None:
        """Stop or resume reading the client (backpressure from the upstream, or a queued request)."""
        flow = self.flow
        if flow is not None:
            flow.pause_reading() if paused else flow.resume_reading()
        elif paused != self.client_paused and not self.transport.is_closing():
            if paused:
                self.transport.pause_reading()
            else:
                self.transport.resume_reading()
        self.client_paused = paused

    def default_headers(self) -> bytes:
        """The server's own header lines (Date), joined once per change for every connection."""
        headers = self.server_state.default_headers
        if _defaults[0] is not headers:
            _defaults[:] = [headers, b"".join(name + b": " + value + b"\r\n" for name, value in headers)]
        return _defaults[1]  # type: ignore[return-value]

    def target_text(self) -> str:
        """The request target of the request being parsed, for log lines."""
        return self.url.decode("latin-1")

    def note_upstream_error(self) -> None:
        """Count an upstream failure (when metrics are on)."""
        if self.gateway.metrics is not None:
            self.gateway.metrics.upstream_error()

    def note_body_limit_rejected(self) -> None:
        """Count a 413 (when metrics are on)."""
        if self.gateway.metrics is not None:
            self.gateway.metrics.body_limit_rejected()

    # deadlines, rejects, shutdown
    def _arm_deadline(self) -> None:
        # One timer per connection, re-armed only when it fires: no timer work per request.
        self._deadline_at = self.loop.time() + self.gateway_config.head.read_timeout_s
        if self._deadline is None:
            self._deadline = self.loop.call_at(self._deadline_at, self._deadline_passed)

    def _stop_deadline(self) -> None:
        self._deadline_at = 0.0
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _deadline_passed(self) -> None:
        self._deadline = None
        if self._deadline_at == 0.0 or self.transport.is_closing():
            return
        if self.loop.time() < self._deadline_at:
            self._deadline = self.loop.call_at(self._deadline_at, self._deadline_passed)
            return
        if not self._awaiting_head or self.current is not None:
            return  # a response is going out; its end re-arms the deadline
        if self._head_started:
            timeout = self.gateway_config.head.read_timeout_s
            self.reject(408, f"request headers not received within {timeout:g}s (FLUXLIT_GATEWAY_HEADER_READ_TIMEOUT_S)")
        else:
            self.transport.close()

    def reject(self, status: int, reason: str) -> None:
        """Answer ``status`` after any response already due, and close the connection."""
        current = self.current
        if current is not None and self._awaiting_head:
            # Bad bytes after a complete request: its response goes out first (see item_done).
            self._deferred = (status, reason)
            self.pause_client(True)
            return
        request_id = mint_request_id()
        log.warning("%s from %s: %s request_id=%s", status, self.client[0] if self.client else "?", reason, request_id.decode())
        self._deferred = (status, reason)
        if current is None or not current.response_started:
            self.transport.write(raw_error(status, reason, request_id, defaults=self.default_headers(), bodiless=self._head_request()))
        # Closing first: the requests abandoned next must not start the ones queued behind them.
        self.transport.close()
        self._abandon_requests()

    def _head_request(self) -> bool:
        """Whether the request being parsed is a ``HEAD`` (its answer has no body), as far as the parser knows."""
        try:
            return self.parser is not None and self.parser.get_method() == b"HEAD"
        except httptools.HttpParserError:
            return False

    def _abandon_requests(self) -> None:
        """The client left or broke the stream: the request in flight and those queued are dropped.

        An ASGI app sees a disconnect; a spliced request's upstream connection is aborted, so the
        upstream never sees a request the client's bytes did not complete.
        """
        for item in (self.current, *self.queue):
            if isinstance(item, RequestResponseCycle):
                if not item.response_complete:
                    item.disconnected = True
                item.message_event.set()
            elif item is not None:
                item.client_gone()
        self.queue.clear()
        self.current = None

    def shutdown(self) -> None:
        """Graceful stop: idle connections close now, busy ones after their response, WebSockets with 1001."""
        self._closing = True
        current = self.current
        if current is None:
            self.transport.close()
        elif isinstance(current, WebSocketSplice):
            current.shutdown()
        else:
            current.keep_alive = False
