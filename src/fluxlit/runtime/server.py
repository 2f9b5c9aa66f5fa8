"""Serve the gateway with uvicorn on a socket FluxLit binds itself."""

import contextlib
import errno
import signal
import socket
import threading
from collections.abc import Iterator
from typing import Any

import uvicorn
from uvicorn.supervisors import ChangeReload

from ..edge.asgi_websocket import GatewayWebSocketProtocol
from ..edge.protocol import EdgeProtocol
from ..settings import FluxlitSettings
from .address import serving_uvicorn_config


class BindError(OSError):
    """The gateway address cannot be bound; the message names it and the fix."""


class WorkerCountError(RuntimeError):
    """uvicorn runs more than one worker, so each would start its own Streamlit child."""


def refuse_multiple_workers(settings: FluxlitSettings) -> None:
    """Fail the lifespan of a multi-worker uvicorn unless ``FLUXLIT_ALLOW_UNIFIED_UVICORN_MULTIWORKER`` is set."""
    config = serving_uvicorn_config()
    workers = config.workers if config is not None else 1
    if workers > 1 and not settings.allow_unified_uvicorn_multiworker:
        raise WorkerCountError(
            f"uvicorn is running {workers} workers; FluxLit serves one app per process with one Streamlit child "
            "and in-memory state, so run a single worker and scale with replicas, or set "
            "FLUXLIT_ALLOW_UNIFIED_UVICORN_MULTIWORKER=1 to start one Streamlit child per worker anyway"
        )


def bind_socket(host: str, port: int) -> socket.socket:
    """A listening socket on ``host:port`` (``BindError`` when taken or not allowed)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host.strip("[]"), port))
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise BindError(f"port {port} on {host} is already in use; stop the process using it or pick another with --port") from None
        raise BindError(f"cannot listen on {host}:{port}: {exc.strerror}; check --host/--port (FLUXLIT_GATEWAY_HOST/PORT)") from None
    sock.set_inheritable(True)
    return sock


class GatewayServer(uvicorn.Server):
    """uvicorn's server, except that a signal-driven graceful stop exits 0 instead of re-raising the signal."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        handled = (signal.SIGINT, signal.SIGTERM)
        previous = {sig: signal.signal(sig, self.handle_exit) for sig in handled}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


def uvicorn_config(app: Any, settings: FluxlitSettings, *, loop: str, factory: bool = False, reload_dirs: list[str] | None = None) -> uvicorn.Config:
    """The uvicorn configuration FluxLit runs with."""
    return uvicorn.Config(
        app,
        host=settings.gateway_host,
        port=settings.gateway_port,
        factory=factory,
        loop=loop,
        lifespan="on",
        log_level=settings.log_level,
        ws_max_size=settings.gateway_ws_max_message_bytes,
        timeout_graceful_shutdown=settings.uvicorn_graceful_shutdown_timeout_s,
        server_header=False,
        # The gateway writes its own access log, at request end and with secrets redacted.
        access_log=False,
        # The edge owns each connection: head rules, the lane decision, the splice lane; the ASGI lane
        # runs uvicorn's request cycle and its WebSocket protocol (closing with 1001 on shutdown).
        http=EdgeProtocol,  # type: ignore[arg-type]
        ws=GatewayWebSocketProtocol,
        # Proxy trust is the gateway's decision (FLUXLIT_TRUST_PROXY), not uvicorn's loopback default.
        proxy_headers=False,
        reload=reload_dirs is not None,
        reload_dirs=reload_dirs,
    )


def raise_open_file_limit() -> None:
    """Lift the soft limit on open files to the hard one: every client holds a descriptor, and a
    WebSocket two, so the common soft default of 1024 would cap a gateway at a few hundred users."""
    try:
        import resource
    except ImportError:  # Windows has no rlimits
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        with contextlib.suppress(ValueError, OSError):  # a platform that refuses keeps its limit
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def serve(config: uvicorn.Config, sock: socket.socket) -> int:
    """Run until stopped; 0 after a clean stop, 1 when startup failed."""
    raise_open_file_limit()
    server = GatewayServer(config)
    try:
        if config.reload:
            ChangeReload(config, target=server.run, sockets=[sock]).run()
            return 0
        server.run(sockets=[sock])
    except SystemExit as exc:
        return int(exc.code or 1)
    finally:
        sock.close()
    return 0 if server.started else 1
