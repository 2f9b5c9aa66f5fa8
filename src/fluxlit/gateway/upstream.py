"""The Streamlit upstream: its address, its connection pools and its health."""

import asyncio
from collections.abc import Callable
from urllib.parse import urlsplit

import aiohttp
from yarl import URL

from ..edge.pool import ConnectionPool
from .config import GatewayConfig

UPSTREAM_ERRORS = (aiohttp.ClientError, asyncio.TimeoutError, OSError)
"""What reaching the upstream through aiohttp can raise."""

NOT_STARTED = "no Streamlit upstream is configured (the sidecar is not started)"


class Upstream:
    """Where proxied traffic goes, given its address when built.

    ``pool`` carries the fast lane (raw keep-alive connections), ``session`` the ASGI lane
    (aiohttp). A ``managed`` upstream is the sidecar: unavailable until the runtime ``watch``es it.
    """

    def __init__(self, config: GatewayConfig, address: str, *, managed: bool = False) -> None:
        self.config = config
        self.base = address.rstrip("/")
        parts = urlsplit(self.base)
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 80
        self.host_header = parts.netloc.encode()
        """``Host`` for a request that came without one (HTTP/1.0)."""
        self.managed = managed
        self.started = not managed
        self.exit_code: Callable[[], int | None] = lambda: None
        self._session: aiohttp.ClientSession | None = None
        self._pool: ConnectionPool | None = None
        self.slots = asyncio.Semaphore(config.upstream_max_connections)
        """The ASGI lane's bound on requests to Streamlit at once (``FLUXLIT_GATEWAY_UPSTREAM_MAX_CONNECTIONS``)."""

    def watch(self, exit_code: Callable[[], int | None]) -> None:
        """The sidecar is up: serve through it, and report it when ``exit_code`` says it died."""
        self.exit_code = exit_code
        self.started = True

    def unwatch(self) -> None:
        """The sidecar is stopped."""
        self.started = not self.managed
        self.exit_code = lambda: None

    @property
    def pool(self) -> ConnectionPool:
        """The fast lane's raw connection pool, created on first use inside the running event loop."""
        if self._pool is None:
            c = self.config
            self._pool = ConnectionPool(self.host, self.port, connect_timeout_s=c.connect_timeout_s, read_timeout_s=c.read_timeout_s,
                                        max_connections=c.upstream_max_connections)  # fmt: skip
        return self._pool

    @property
    def session(self) -> aiohttp.ClientSession:
        """The ASGI lane's shared session, created on first use inside the running event loop."""
        if self._session is None or self._session.closed:
            c = self.config
            self._session = aiohttp.ClientSession(
                # The bound is ``slots`` (a wait that ends in 503); a trickling upload cannot hold one for
                # long (the body's pace is enforced), so the connector itself needs no cap.
                connector=aiohttp.TCPConnector(limit=0, keepalive_timeout=30.0),
                timeout=aiohttp.ClientTimeout(total=None, sock_connect=c.connect_timeout_s, sock_read=c.read_timeout_s),
                # Bytes pass through as Streamlit encoded them; cookies belong to the browser.
                auto_decompress=False,
                cookie_jar=aiohttp.DummyCookieJar(),
                skip_auto_headers=("User-Agent", "Accept", "Accept-Encoding", "Content-Type"),
            )
        return self._session

    def pool_stats(self) -> dict[str, int]:
        """The fast lane's pool: connections open, idle and waited for (all 0 before first use)."""
        return self._pool.stats() if self._pool is not None else {"open": 0, "idle": 0, "waiting": 0}

    async def close(self) -> None:
        """Close both pools and their connections."""
        if self._pool is not None:
            self._pool.close()
            self._pool = None
        if self._session is not None:
            await self._session.close()
            self._session = None

    def url(self, raw_path: bytes, query: bytes = b"", *, websocket: bool = False) -> URL:
        """Upstream URL for a request target, forwarded as received (no decode/re-encode)."""
        target = raw_path.decode("latin-1")
        if query:
            target += "?" + query.decode("latin-1")
        base = self.base
        if websocket:
            base = "ws" + base[4:] if base.startswith("http") else base
        return URL(base + target, encoded=True)

    def unavailable_reason(self) -> str | None:
        """Why the upstream cannot be reached without trying, or ``None``."""
        if not self.started:
            return NOT_STARTED
        code = self.exit_code()
        if code is not None:
            return f"the Streamlit child exited with code {code}"
        return None
