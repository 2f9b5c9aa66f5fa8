"""The gateway's own loopback address, for the internal API base the Streamlit child calls."""

import sys
from typing import TYPE_CHECKING

from ..settings import FluxlitSettings

if TYPE_CHECKING:
    from uvicorn import Config


def loopback_host(host: str) -> str:
    """A host the child can connect to for a bind host (wildcards become loopback)."""
    if host in ("", "0.0.0.0"):
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def serving_uvicorn_config() -> "Config | None":
    """The ``uvicorn.Config`` of the uvicorn serving this lifespan, found on the await chain.

    Plain ``uvicorn app:app --port N --workers W`` tells the app nothing about N or W; its
    lifespan task's frames do.
    """
    frame = sys._getframe(1)
    while frame is not None:
        config = getattr(frame.f_locals.get("self"), "config", None)
        if type(config).__module__ == "uvicorn.config":
            return config
        frame = frame.f_back
    return None


def uvicorn_bind() -> tuple[str, int] | None:
    """Host and port of the uvicorn serving this lifespan (``None`` on a socket it did not bind)."""
    config = serving_uvicorn_config()
    if config is not None and not config.uds and config.fd is None:
        return config.host, config.port
    return None


def internal_api_base(settings: FluxlitSettings) -> str:
    """``FLUXLIT_INTERNAL_API_BASE``, else ``http://<loopback>:<port><root><mount>`` of this gateway."""
    if settings.internal_api_base:
        return settings.internal_api_base
    host, port = settings.gateway_host, settings.gateway_port
    if "gateway_port" not in settings.model_fields_set and (found := uvicorn_bind()) is not None:
        host, port = found
    return f"http://{loopback_host(host)}:{port}{settings.api_prefix}"
