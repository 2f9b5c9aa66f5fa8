"""Keeps the Streamlit child running: starts it, and restarts it with backoff when it dies (``FLUXLIT_STREAMLIT_RESTART``)."""

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Callable

from ..gateway.upstream import Upstream
from .sidecar import SidecarError, StreamlitSidecar

log = logging.getLogger("fluxlit.runtime")

MAX_RESTARTS_PER_MINUTE = 5
FIRST_BACKOFF_S = 0.5
"""The first restart waits this long; each further one in the same minute twice as long."""
POLL_S = 0.2
"""How often the child is checked: readiness turns 503 at once (the upstream asks the child), this only paces restarts."""


class StreamlitSupervisor:
    """The current Streamlit child; with ``restart`` on, a dead child is replaced, at most 5 times a minute."""

    def __init__(self, make: Callable[[], StreamlitSidecar], upstream: Upstream, *, restart: bool, startup_timeout_s: float) -> None:
        self.make = make
        self.upstream = upstream
        self.restart = restart
        self.startup_timeout_s = startup_timeout_s
        self.sidecar: StreamlitSidecar | None = None
        self.restarts: deque[float] = deque()
        self._watcher: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Start the child and wait until it is healthy (``SidecarError`` if it is not)."""
        await self._launch()
        if self.restart:
            self._watcher = asyncio.create_task(self._watch())

    async def stop(self) -> None:
        """Stop watching, then stop the child (bounded SIGINT → terminate → kill)."""
        if self._watcher is not None:
            self._watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watcher
        if self.sidecar is not None:
            await asyncio.to_thread(self.sidecar.stop)

    async def _launch(self) -> None:
        sidecar = self.sidecar = self.make()
        sidecar.start()
        await sidecar.wait_healthy(self.upstream.session, self.startup_timeout_s)
        self.upstream.watch(sidecar.exit_code)

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(POLL_S)
            sidecar = self.sidecar
            if sidecar is None or (code := sidecar.exit_code()) is None:
                continue
            delay = self._backoff()
            log.error("Streamlit (pid %s) exited with code %s; restarting in %.1fs (restart %d in the last minute, at most %d; "
                      "FLUXLIT_STREAMLIT_RESTART=0 turns this off)", sidecar.process.pid if sidecar.process else "?", code, delay,
                      len(self.restarts) + 1, MAX_RESTARTS_PER_MINUTE)  # fmt: skip
            await asyncio.sleep(delay)
            self.restarts.append(time.monotonic())
            try:
                await self._launch()
            except SidecarError as exc:
                log.error("Streamlit restart failed: %s", exc)
                continue
            log.warning("Streamlit restarted (pid %d); serving again", self.sidecar.process.pid)  # type: ignore[union-attr]

    def _backoff(self) -> float:
        """Seconds to wait before the next restart: doubling within a minute, and past the cap until the oldest restart ages out."""
        now = time.monotonic()
        while self.restarts and now - self.restarts[0] >= 60.0:
            self.restarts.popleft()
        if len(self.restarts) >= MAX_RESTARTS_PER_MINUTE:
            return 60.0 - (now - self.restarts[0])
        return FIRST_BACKOFF_S * 2 ** len(self.restarts)
