"""Raw keep-alive connections to the Streamlit upstream: an asyncio protocol with httptools' response parser.

A connection carries one exchange at a time and reports to it through callbacks; between
exchanges it waits in the pool. Nothing here awaits except opening a new connection.
"""

import asyncio
import time
from collections.abc import Callable
from typing import Protocol

import httptools

IDLE_REUSE_S = 4.0
"""Idle connections older than this are closed, not reused: shorter than the upstream's keep-alive
(uvicorn's default is 5 s), so a reused connection is not one the upstream is closing."""


class Exchange(Protocol):
    """What a connection reports to the exchange it carries."""

    def response_head(self, status: int, headers: list[tuple[bytes, bytes]], chunked: bool, keep_alive: bool) -> None: ...
    def response_body(self, data: bytes) -> None: ...
    def response_end(self) -> None: ...
    def upgraded(self, rest: bytes) -> None: ...
    def upstream_failed(self, reason: str, *, timed_out: bool = False) -> None: ...
    def upstream_paused(self, paused: bool) -> None: ...


class UpstreamConnection(asyncio.Protocol):
    """One connection to the upstream; ``exchange`` is the request it carries now (``None`` when idle)."""

    def __init__(self, pool: "ConnectionPool") -> None:
        self.pool = pool
        self.transport: asyncio.Transport | None = None
        self.exchange: Exchange | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.headers: list[tuple[bytes, bytes]] = []
        self.chunked = False
        self.reused = False
        self.received = False
        self.closed = False
        self.idle_since = 0.0
        self.last_read = 0.0
        self.reading_paused = False
        self._timer: asyncio.TimerHandle | None = None

    # asyncio callbacks
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.last_read = time.monotonic()
        self.received = True
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade as upgrade:
            exchange = self.exchange
            if exchange is not None:
                exchange.upgraded(data[upgrade.args[0] :])
        except httptools.HttpParserError as exc:
            self._fail(f"the Streamlit upstream sent a malformed response ({exc})")

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._stop_timer()
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
    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name, value))
        if len(name) == 17 and name.lower() == b"transfer-encoding":
            self.chunked = value.strip().lower() == b"chunked"

    def on_headers_complete(self) -> None:
        exchange = self.exchange
        if exchange is not None:
            exchange.response_head(self.parser.get_status_code(), self.headers, self.chunked, self.parser.should_keep_alive())

    def on_body(self, body: bytes) -> None:
        if self.exchange is not None:
            self.exchange.response_body(body)

    def on_message_complete(self) -> None:
        if self.parser.should_upgrade():
            return  # a 101: the parser stops next, and the exchange takes the connection over
        exchange, self.exchange = self.exchange, None
        self._stop_timer()
        self.headers = []
        self.chunked = False
        if exchange is not None:
            exchange.response_end()

    # used by the exchange
    def send(self, exchange: Exchange, data: bytes) -> None:
        """Start carrying ``exchange``: write its head (and any body bytes so far), start the read timer."""
        self.exchange = exchange
        self.received = False
        self.last_read = time.monotonic()
        self._timer = self.pool.loop.call_later(self.pool.read_timeout_s, self._check_read)
        self.transport.write(data)  # type: ignore[union-attr]

    def write(self, data: bytes) -> None:
        """More request bytes for the current exchange."""
        self.transport.write(data)  # type: ignore[union-attr]

    def pause_reading(self, paused: bool) -> None:
        """Backpressure from the client side; the read timer does not count a pause."""
        if self.closed or paused == self.reading_paused:
            return
        self.reading_paused = paused
        self.last_read = time.monotonic()
        if paused:
            self.transport.pause_reading()  # type: ignore[union-attr]
        else:
            self.transport.resume_reading()  # type: ignore[union-attr]

    def detach(self) -> None:
        """Stop reporting to the exchange."""
        self.exchange = None
        self._stop_timer()

    def abort(self) -> None:
        """Drop the connection without completing what is on it (the upstream sees no complete request)."""
        self.detach()
        self.closed = True
        if self.transport is not None:
            self.transport.abort()

    def _check_read(self) -> None:
        self._timer = None
        if self.exchange is None or self.closed:
            return
        waited = time.monotonic() - self.last_read
        if self.reading_paused or waited < self.pool.read_timeout_s:
            self._timer = self.pool.loop.call_later(self.pool.read_timeout_s - (0 if self.reading_paused else waited), self._check_read)
            return
        self._fail("the Streamlit upstream timed out", timed_out=True)

    def _fail(self, reason: str, *, timed_out: bool = False) -> None:
        exchange = self.exchange
        self.abort()
        if exchange is not None:
            exchange.upstream_failed(reason, timed_out=timed_out)

    def _stop_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None


class ConnectionPool:
    """Keep-alive raw connections to one upstream address; a miss opens a new connection."""

    def __init__(self, host: str, port: int, *, connect_timeout_s: float, read_timeout_s: float) -> None:
        self.host = host
        self.port = port
        self.connect_timeout_s = connect_timeout_s
        self.read_timeout_s = read_timeout_s
        self.loop = asyncio.get_event_loop()
        self._idle: list[UpstreamConnection] = []
        self._opening: set[asyncio.Task[None]] = set()
        self.open_connections = 0

    def acquire(self, ready: Callable[[UpstreamConnection], None], failed: Callable[[BaseException], None]) -> None:
        """Call ``ready`` with a pooled connection now, or with a new one once open (``failed`` if it cannot open)."""
        now = time.monotonic()
        while self._idle:
            connection = self._idle.pop()
            if connection.closed:
                continue
            if now - connection.idle_since > IDLE_REUSE_S:
                connection.abort()
                continue
            connection.reused = True
            ready(connection)
            return
        task = self.loop.create_task(self._open(ready, failed))
        self._opening.add(task)
        task.add_done_callback(self._opening.discard)

    def fresh(self, ready: Callable[[UpstreamConnection], None], failed: Callable[[BaseException], None]) -> None:
        """Call ``ready`` with a new connection (a WebSocket never goes back to the pool)."""
        task = self.loop.create_task(self._open(ready, failed))
        self._opening.add(task)
        task.add_done_callback(self._opening.discard)

    async def _open(self, ready: Callable[[UpstreamConnection], None], failed: Callable[[BaseException], None]) -> None:
        try:
            _, connection = await asyncio.wait_for(
                self.loop.create_connection(lambda: UpstreamConnection(self), self.host, self.port), self.connect_timeout_s
            )
        except (OSError, asyncio.TimeoutError) as exc:
            failed(exc)
            return
        self.open_connections += 1
        ready(connection)

    def release(self, connection: UpstreamConnection) -> None:
        """Take back a connection whose exchange ended cleanly."""
        if connection.closed:
            return
        connection.idle_since = time.monotonic()
        connection.pause_reading(False)
        self._idle.append(connection)

    def forget(self, connection: UpstreamConnection) -> None:
        """A connection closed: it is no longer open or idle."""
        self.open_connections -= 1
        if connection in self._idle:
            self._idle.remove(connection)

    def close(self) -> None:
        """Close the idle connections and stop opening new ones."""
        for task in self._opening:
            task.cancel()
        for connection in self._idle:
            connection.abort()
        self._idle.clear()
