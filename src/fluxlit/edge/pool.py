"""Raw keep-alive connections to the Streamlit upstream: an asyncio protocol with httptools' response parser.

A connection carries one exchange at a time and reports to it through callbacks; between
exchanges it waits in the pool. Nothing here awaits except opening a new connection.
"""

import asyncio
from collections import deque
from typing import Protocol

import httptools

from ..gateway.responses import busy_reason

IDLE_REUSE_S = 4.0
"""Idle connections older than this are closed, not reused: shorter than the upstream's keep-alive
(uvicorn's default is 5 s), so a reused connection is not one the upstream is closing."""


MAX_RESPONSE_HEAD = 64 * 1024
"""A response head longer than this is a broken upstream (502)."""


class PoolExhausted(Exception):
    """Every upstream connection stayed busy for the connect timeout (answered 503)."""


def connect_failure(exc: BaseException) -> str:
    """Why a new upstream connection could not be opened."""
    if isinstance(exc, PoolExhausted):
        return str(exc)
    if isinstance(exc, TimeoutError):
        return "the Streamlit upstream timed out"
    return f"cannot connect to the Streamlit upstream ({getattr(exc, 'strerror', None) or exc})"


class Exchange(Protocol):
    """What a connection reports to the exchange it carries (and the pool to the one waiting for it)."""

    def connected(self, connection: "UpstreamConnection") -> None: ...
    def connect_failed(self, exc: BaseException) -> None: ...

    def response_head(self, raw: bytes, keep_alive: bool) -> None: ...
    def response_body(self, data: bytes) -> None: ...
    def response_end(self) -> None: ...
    def flush(self) -> None: ...
    def upgraded(self, rest: bytes) -> None: ...
    def upstream_failed(self, reason: str) -> None: ...
    def upstream_paused(self, paused: bool) -> None: ...


class UpstreamConnection(asyncio.Protocol):
    """One connection to the upstream; ``exchange`` is the request it carries now (``None`` when idle).

    httptools tracks the response's framing; the head's fields are read from its raw bytes by
    the header-policy kernel in one call, so no Python runs per header.
    """

    __slots__ = ("_timer", "closed", "counted", "exchange", "head_buffer", "idle_since", "interim", "last_read", "loop", "parser",
                 "pool", "raw_head", "reading_paused", "received", "reused", "transport", "waiting")  # fmt: skip

    def __init__(self, pool: "ConnectionPool") -> None:
        self.pool = pool
        self.loop = pool.loop
        self.transport: asyncio.Transport | None = None
        self.exchange: Exchange | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.head_buffer: bytes | None = b""
        self.raw_head = b""
        self.interim = False
        self.reused = False
        self.received = False
        self.closed = False
        self.idle_since = 0.0
        self.last_read = 0.0
        self.waiting = False
        self.reading_paused = False
        self.counted = False
        """Counted against the pool's bound (HTTP connections; a WebSocket's is its own)."""
        self._timer: asyncio.TimerHandle | None = None

    # asyncio callbacks
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.last_read = self.loop.time()
        self.received = True
        exchange = self.exchange
        if self.head_buffer is not None and not self._find_head(data):
            return
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade as upgrade:
            if exchange is not None:
                exchange.upgraded(data[upgrade.args[0] :])
            return
        except httptools.HttpParserError as exc:
            self._fail(f"the Streamlit upstream sent a malformed response ({exc})")
            return
        if exchange is not None:
            exchange.flush()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.pool.forget(self)
        if self.exchange is not None:
            self._fail("the Streamlit upstream closed the connection" if exc is None else f"the Streamlit upstream failed ({exc})")

    def pause_writing(self) -> None:
        if self.exchange is not None:
            self.exchange.upstream_paused(True)

    def resume_writing(self) -> None:
        if self.exchange is not None:
            self.exchange.upstream_paused(False)

    # httptools callbacks
    def on_headers_complete(self) -> None:
        status = self.parser.get_status_code()
        if status < 200 and status != 101:
            self.interim = True  # 100/103: the gateway answers Expect itself; hints are dropped
            return
        if self.exchange is not None:
            self.exchange.response_head(self.raw_head, self.parser.should_keep_alive())

    def on_body(self, body: bytes) -> None:
        if self.exchange is not None:
            self.exchange.response_body(body)

    def on_message_complete(self) -> None:
        if self.interim:
            self.interim = False
            return
        if self.parser.should_upgrade():
            return  # a 101: the parser stops next, and the exchange takes the connection over
        exchange, self.exchange = self.exchange, None
        self.waiting = False
        self.head_buffer = b""
        if exchange is not None:
            exchange.response_end()

    def _find_head(self, data: bytes) -> bool:
        """Keep the raw bytes of the final response head (interim 1xx heads skipped); False when broken."""
        if self.head_buffer:
            data = self.head_buffer + data
        start = 0
        while (end := data.find(b"\r\n\r\n", start)) >= 0:
            if data[start + 9 : start + 10] != b"1" or data[start + 9 : start + 12] == b"101":
                self.raw_head = data[start : end + 4]
                self.head_buffer = None
                return True
            start = end + 4
        if len(data) - start > MAX_RESPONSE_HEAD:
            self._fail(f"the Streamlit upstream sent a response head over {MAX_RESPONSE_HEAD} bytes")
            return False
        self.head_buffer = data[start:]
        return True

    # used by the exchange
    def send(self, exchange: Exchange, data: bytes) -> None:
        """Start carrying ``exchange``: write its head (and any body bytes so far), watch the read timeout."""
        self.exchange = exchange
        self.received = False
        self.waiting = True
        self.last_read = self.loop.time()
        if self._timer is None:
            # One timer per connection, re-armed only when it fires: no timer work per request.
            self._timer = self.loop.call_at(self.last_read + self.pool.read_timeout_s, self._check_read)
        self.transport.write(data)  # type: ignore[union-attr]

    def write(self, data: bytes) -> None:
        """More request bytes for the current exchange."""
        self.transport.write(data)  # type: ignore[union-attr]

    def pause_reading(self, paused: bool) -> None:
        """Backpressure from the client side; the read timer does not count a pause."""
        if self.closed or paused == self.reading_paused:
            return
        self.reading_paused = paused
        self.last_read = self.loop.time()
        if paused:
            self.transport.pause_reading()  # type: ignore[union-attr]
        else:
            self.transport.resume_reading()  # type: ignore[union-attr]

    def detach(self) -> None:
        """Stop reporting to the exchange (and drop the read timer, which would keep this object alive)."""
        self.exchange = None
        self.waiting = False
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def abort(self) -> None:
        """Drop the connection without completing what is on it (the upstream sees no complete request)."""
        self.detach()
        self.closed = True
        if self.transport is not None:
            self.transport.abort()

    def _check_read(self) -> None:
        self._timer = None
        if not self.waiting or self.closed:
            return
        timeout = self.pool.read_timeout_s
        now = self.loop.time()
        if self.reading_paused or now - self.last_read < timeout:
            self._timer = self.loop.call_at((now if self.reading_paused else self.last_read) + timeout, self._check_read)
            return
        self._fail("the Streamlit upstream timed out")

    def _fail(self, reason: str) -> None:
        exchange = self.exchange
        self.abort()
        if exchange is not None:
            exchange.upstream_failed(reason)


class ConnectionPool:
    """Keep-alive raw connections to one upstream address, at most ``max_connections`` for HTTP at once.

    A miss opens a new connection while under the bound; beyond it the exchange waits, first come
    first served, for a connection to come back or close, and fails with ``PoolExhausted`` after
    the connect timeout. WebSockets get connections of their own, outside the bound.
    """

    def __init__(self, host: str, port: int, *, connect_timeout_s: float, read_timeout_s: float, max_connections: int) -> None:
        self.host = host
        self.port = port
        self.connect_timeout_s = connect_timeout_s
        self.read_timeout_s = read_timeout_s
        self.max_connections = max_connections
        self.loop = asyncio.get_event_loop()
        self.counted = 0
        """HTTP connections open or opening."""
        self._idle: list[UpstreamConnection] = []
        self._sweeper: asyncio.TimerHandle | None = None
        self._opening: set[asyncio.Task[tuple[asyncio.BaseTransport, UpstreamConnection]]] = set()
        self._waiting: deque[tuple[Exchange, asyncio.TimerHandle]] = deque()

    def stats(self) -> dict[str, int]:
        """Bounded connections open or opening, those idle, and exchanges waiting (the debug snapshot shows them)."""
        return {"open": self.counted, "idle": len(self._idle), "waiting": len(self._waiting)}

    def acquire(self, exchange: Exchange) -> None:
        """Hand ``exchange`` a pooled connection now, or a new one once open, or the next one free at the bound."""
        now = self.loop.time()
        while self._idle:
            connection = self._idle.pop()
            if connection.closed:
                continue
            if now - connection.idle_since > IDLE_REUSE_S:
                connection.abort()
                continue
            connection.reused = True
            exchange.connected(connection)
            return
        if self.counted < self.max_connections:
            self._open(exchange, counted=True)
            return
        timer = self.loop.call_later(self.connect_timeout_s, self._expire, exchange)
        self._waiting.append((exchange, timer))

    def fresh(self, exchange: Exchange) -> None:
        """Hand ``exchange`` a new connection (a WebSocket never goes back to the pool)."""
        self._open(exchange, counted=False)

    def _open(self, exchange: Exchange, *, counted: bool) -> None:
        # One task and one timer per new connection: many WebSockets opening at once stay cheap.
        task = self.loop.create_task(self.loop.create_connection(lambda: UpstreamConnection(self), self.host, self.port))
        timer = self.loop.call_later(self.connect_timeout_s, task.cancel)
        self._opening.add(task)
        self.counted += counted

        def opened(task: "asyncio.Task[tuple[asyncio.BaseTransport, UpstreamConnection]]") -> None:
            timer.cancel()
            self._opening.discard(task)
            if task.cancelled():
                self._uncount(counted)
                exchange.connect_failed(TimeoutError(f"no connection within {self.connect_timeout_s:g}s"))
            elif (exc := task.exception()) is not None:
                self._uncount(counted)
                exchange.connect_failed(exc)
            else:
                connection = task.result()[1]
                connection.counted = counted
                exchange.connected(connection)

        task.add_done_callback(opened)

    def _expire(self, exchange: Exchange) -> None:
        for entry in self._waiting:
            if entry[0] is exchange:
                self._waiting.remove(entry)
                break
        exchange.connect_failed(PoolExhausted(busy_reason(self.max_connections, self.connect_timeout_s)))

    def _next_waiting(self) -> Exchange | None:
        if not self._waiting:
            return None
        exchange, timer = self._waiting.popleft()
        timer.cancel()
        return exchange

    def _uncount(self, counted: bool) -> None:
        # A bounded slot is free: open a connection for whoever waits for one.
        if counted:
            self.counted -= 1
            if (exchange := self._next_waiting()) is not None:
                self._open(exchange, counted=True)

    def release(self, connection: UpstreamConnection) -> None:
        """Take back a connection whose exchange ended cleanly (straight to a waiting exchange, if any)."""
        if connection.closed:
            return
        connection.idle_since = self.loop.time()
        if connection.reading_paused:
            connection.pause_reading(False)
        if (exchange := self._next_waiting()) is not None:
            connection.reused = True
            exchange.connected(connection)
            return
        self._idle.append(connection)
        if self._sweeper is None:
            self._sweeper = self.loop.call_later(IDLE_REUSE_S, self._sweep)

    def _sweep(self) -> None:
        # Idle connections past reuse are closed, not left to the upstream: one that got the rest of
        # a body after answering early may never be closed by it.
        self._sweeper = None
        now = self.loop.time()
        stale = [c for c in self._idle if now - c.idle_since > IDLE_REUSE_S]
        for connection in stale:
            connection.abort()  # its connection_lost removes it from the idle list
        self._idle = [c for c in self._idle if c not in stale and not c.closed]
        if self._idle:
            self._sweeper = self.loop.call_later(IDLE_REUSE_S, self._sweep)

    def forget(self, connection: UpstreamConnection) -> None:
        """A connection closed: it is no longer idle, and its slot is free."""
        if connection in self._idle:
            self._idle.remove(connection)
        if connection.counted:
            connection.counted = False
            self._uncount(True)

    def close(self) -> None:
        """Close the idle connections and stop opening new ones."""
        for task in self._opening:
            task.cancel()
        for connection in self._idle:
            connection.abort()
        self._idle.clear()
        if self._sweeper is not None:
            self._sweeper.cancel()
            self._sweeper = None
        while (exchange := self._next_waiting()) is not None:
            exchange.connect_failed(PoolExhausted("the gateway is shutting down"))
