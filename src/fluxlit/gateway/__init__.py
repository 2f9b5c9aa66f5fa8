"""ASGI lane of the gateway: routing, HTTP proxy, WebSocket relay, probes."""

from .gateway import Gateway
from .routing import Dispatch, Route, Router
from .upstream import Upstream

__all__ = ["Dispatch", "Gateway", "Route", "Router", "Upstream"]
