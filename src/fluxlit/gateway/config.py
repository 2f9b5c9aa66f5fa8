"""``GatewayConfig``: every knob the edge and both lanes use, built once from the settings and frozen."""

import enum
from dataclasses import dataclass

from .headers import HeaderPolicy
from ..settings import FluxlitSettings


class Lane(str, enum.Enum):
    """How proxied traffic moves under ``fluxlit run``."""

    FAST = "fast"
    """Spliced bytes in the edge protocol: proxied requests never become ASGI messages."""
    ASGI = "asgi"
    """Every request through the ASGI gateway (aiohttp upstream), as under any ASGI server."""


@dataclass(frozen=True, slots=True)
class HeadLimits:
    """Limits on a request head: read deadline, block size (request line included) and field count."""

    read_timeout_s: float
    max_bytes: int
    max_count: int


@dataclass(frozen=True, slots=True)
class GatewayConfig:
    """What the gateway decides by, derived once from ``FluxlitSettings``; nothing below re-reads settings."""

    lane: Lane
    root_path: str
    api_mount: str
    head: HeadLimits
    policy: HeaderPolicy
    body_cap: int
    """``FLUXLIT_GATEWAY_MAX_PROXY_REQUEST_BODY_BYTES`` (0 = unlimited)."""
    body_read_timeout_s: float
    min_body_rate_bps: int
    """``FLUXLIT_GATEWAY_MIN_BODY_RATE_BPS`` (0 = no minimum rate)."""
    connect_timeout_s: float
    upstream_max_connections: int
    read_timeout_s: float
    ws_max_message: int
    ws_close_timeout_s: float

    @classmethod
    def from_settings(cls, settings: FluxlitSettings) -> "GatewayConfig":
        """The frozen configuration for ``settings``."""
        s = settings
        return cls(
            lane=Lane(s.gateway_lane),
            root_path=s.root_path,
            api_mount=s.api_mount_path,
            head=HeadLimits(s.gateway_header_read_timeout_s, s.gateway_max_header_bytes, s.gateway_max_header_count),
            policy=HeaderPolicy.from_settings(s),
            body_cap=s.gateway_max_proxy_request_body_bytes,
            body_read_timeout_s=s.gateway_body_read_timeout_s,
            min_body_rate_bps=s.gateway_min_body_rate_bps,
            connect_timeout_s=s.gateway_upstream_connect_timeout_s,
            upstream_max_connections=s.gateway_upstream_max_connections,
            read_timeout_s=s.gateway_upstream_read_timeout_s,
            ws_max_message=s.gateway_ws_max_message_bytes,
            ws_close_timeout_s=s.streamlit_stop_step_timeout_s,
        )
