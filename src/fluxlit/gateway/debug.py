"""Debug mode (``FLUXLIT_DEBUG=1``): the ``[fluxlit-debug]`` startup line and the redacted snapshot endpoint."""

import asyncio
import sys
from collections import deque
from typing import Any

from .._speedups import IMPLEMENTATION
from ..runtime.address import internal_api_base
from ..settings import FluxlitSettings, redact_value
from .upstream import Upstream

DEBUG_PATH = "/__fluxlit/debug"
RECENT_DISPATCHES = 32


class DebugState:
    """What debug mode keeps: the last dispatches and the internal API base found at startup."""

    def __init__(self, settings: FluxlitSettings, upstream: Upstream, *, snapshot_served: bool) -> None:
        self.settings = settings
        self.upstream = upstream
        self.snapshot_served = snapshot_served
        self.recent: deque[dict[str, object]] = deque(maxlen=RECENT_DISPATCHES)
        self.internal_api_base = ""

    def announce(self) -> None:
        """Print the ``[fluxlit-debug]`` line to stderr; call it from the lifespan, where the bound port is known."""
        self.internal_api_base = redact_value("internal_api_base", internal_api_base(self.settings))
        snapshot = "GET " + self.settings.root_path + DEBUG_PATH if self.snapshot_served else "off (the API mount shadows it)"
        upstream = redact_value("streamlit_upstream", self.upstream.base if self.upstream.started else "none")
        print(
            f"[fluxlit-debug] internal API base: {self.internal_api_base}  snapshot: {snapshot}  streamlit: {upstream}",
            file=sys.stderr,
            flush=True,
        )

    def snapshot(self, *, spliced: int) -> dict[str, Any]:
        """The redacted state served at ``GET /__fluxlit/debug``; newest dispatch first. ``spliced`` counts the fast lane's requests."""
        s = self.settings
        return {
            "fluxlit_debug": True,
            "root_path": s.root_path,
            "api_mount_path": s.api_mount_path,
            "api_prefix": s.api_prefix,
            "internal_api_base": self.internal_api_base or redact_value("internal_api_base", internal_api_base(s)),
            "streamlit_upstream": redact_value("streamlit_upstream", self.upstream.base) if self.upstream.started else None,
            "streamlit_unavailable": self.upstream.unavailable_reason(),
            "kernels": IMPLEMENTATION,
            "lane": s.gateway_lane,
            "spliced_requests": spliced,
            "upstream_pool": self.upstream.pool_stats(),
            "tasks": len(asyncio.all_tasks()),
            "settings": s.redacted(),
            "recent_dispatches": list(reversed(self.recent)),
        }
