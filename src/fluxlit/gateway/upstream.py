"""The Streamlit upstream: its base URL, its health, and the pooled aiohttp session to it."""

from collections.abc import Callable

import aiohttp
from yarl import URL

from ..settings import FluxlitSettings
from .headers import HeaderPolicy


class Upstream:
    """Where proxied traffic goes, and the keep-alive connection pool that carries it.

    ``base`` is ``None`` until a Streamlit is configured (an existing one, or the sidecar once it
    is started). ``exit_code`` reports a sidecar that died so errors can say so.
    """

    def __init__(self, settings: FluxlitSettings, base: str | None = None) -> None:
        self.settings = settings
        self.base = base
        # Built once: proxy trust networks and the header allowlist are per gateway, not per request.
        self.header_policy = HeaderPolicy.from_settings(settings)
        self.exit_code: Callable[[], int | None] = lambda: None
        self._session: aiohttp.ClientSession | None = None

    @property
    def session(self) -> aiohttp.ClientSession:
        """The shared session, created on first use inside the running event loop."""
        if self._session is None or self._session.closed:
            s = self.settings
            self._session = aiohttp.ClientSession(
                # No pool cap: a slow client must never hold a slot that others wait for.
                connector=aiohttp.TCPConnector(limit=0, keepalive_timeout=30.0),
                timeout=aiohttp.ClientTimeout(
                    total=None,
                    sock_connect=s.gateway_upstream_connect_timeout_s,
                    sock_read=s.gateway_upstream_read_timeout_s,
                ),
                # Bytes pass through as Streamlit encoded them; cookies belong to the browser.
                auto_decompress=False,
                cookie_jar=aiohttp.DummyCookieJar(),
                skip_auto_headers=("User-Agent", "Accept", "Accept-Encoding", "Content-Type"),
            )
        return self._session

    async def close(self) -> None:
        """Close the pool and its connections."""
        if self._session is not None:
            await self._session.close()
            self._session = None

    def url(self, raw_path: bytes, query: bytes = b"", *, websocket: bool = False) -> URL:
        """Upstream URL for a request target, forwarded as received (no decode/re-encode)."""
        assert self.base is not None
        target = raw_path.decode("latin-1")
        if query:
            target += "?" + query.decode("latin-1")
        base = self.base
        if websocket:
            base = "ws" + base[4:] if base.startswith("http") else base
        return URL(base + target, encoded=True)

    def unavailable_reason(self) -> str | None:
        """Why the upstream cannot be reached without trying, or ``None``."""
        if self.base is None:
            return "no Streamlit upstream is configured (the sidecar is not started)"
        code = self.exit_code()
        if code is not None:
            return f"the Streamlit child exited with code {code}"
        return None
