"""The ``fluxlit`` command line."""

import asyncio
import contextlib
import enum
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import aiohttp
import typer

from .runtime.address import loopback_host
from .runtime.server import BindError, bind_socket, serve, uvicorn_config
from .runtime.sidecar import SidecarError, StreamlitSidecar
from .runtime.target import Target, TargetError, load_app, resolve_target
from .settings import FluxlitSettings, SettingsError, load_settings

if TYPE_CHECKING:
    from .app import FluxLit

cli = typer.Typer(help="FluxLit: a FastAPI API and a Streamlit UI behind one port.", no_args_is_help=True, add_completion=False)


class Loop(str, enum.Enum):
    auto = "auto"
    uvloop = "uvloop"
    asyncio = "asyncio"


class ReloadScope(str, enum.Enum):
    gateway = "gateway"
    full = "full"


TargetArg = Annotated[str | None, typer.Argument(help="module:attribute of the FluxLit app (default: project file target, else app:app)")]
HostOpt = Annotated[str | None, typer.Option("--host", help="Bind host [default: FLUXLIT_GATEWAY_HOST or 127.0.0.1]")]
PortOpt = Annotated[int | None, typer.Option("--port", min=1, max=65535, help="Bind port [default: FLUXLIT_GATEWAY_PORT or 8000]")]
LoopOpt = Annotated[Loop, typer.Option("--loop", help="Event loop implementation")]


def fail(message: str, code: int) -> typer.Exit:
    """Print one error line to stderr and return the exit to raise."""
    typer.echo(f"fluxlit: {message}", err=True)
    return typer.Exit(code)


def _settings(host: str | None, port: int | None) -> FluxlitSettings:
    # CLI flags win over FLUXLIT_* variables; the Streamlit child and reload workers read the same env.
    if host is not None:
        os.environ["FLUXLIT_GATEWAY_HOST"] = host
    if port is not None:
        os.environ["FLUXLIT_GATEWAY_PORT"] = str(port)
    try:
        return load_settings()
    except SettingsError as exc:
        raise fail(str(exc), 2) from None


def _load(value: str | None) -> tuple[Target, "FluxLit"]:
    try:
        target = resolve_target(value)
        app = load_app(target)
    except TargetError as exc:
        raise fail(f"{exc} (working directory: {Path.cwd()})", 2) from None
    os.environ["FLUXLIT_APP"] = str(target)
    return target, app


def _bind(settings: FluxlitSettings):  # noqa: ANN202 - socket
    try:
        return bind_socket(settings.gateway_host, settings.gateway_port)
    except BindError as exc:
        raise fail(str(exc), 1) from None


def _announce(settings: FluxlitSettings) -> None:
    base = f"http://{loopback_host(settings.gateway_host)}:{settings.gateway_port}{settings.root_path}"
    typer.echo(f"FluxLit on {base}/  (API {base}{settings.api_mount_path}/docs)", err=True)


@cli.command()
def run(target: TargetArg = None, host: HostOpt = None, port: PortOpt = None, loop: LoopOpt = Loop.auto) -> None:
    """Serve the app in production: gateway, API and Streamlit child, no reload."""
    settings = _settings(host, port)
    _, app = _load(target)
    sock = _bind(settings)
    _announce(settings)
    code = serve(uvicorn_config(app, settings, loop=loop.value), sock)
    if code:
        raise fail("startup failed; the reason is logged above", code)


@contextlib.contextmanager
def _persistent_sidecar(target: Target, settings: FluxlitSettings) -> Iterator[None]:
    """A Streamlit child owned by this process, so gateway reloads leave it running."""
    sidecar = StreamlitSidecar.for_app(target, settings, "--server.runOnSave=true")

    async def wait() -> None:
        async with aiohttp.ClientSession() as session:
            await sidecar.wait_healthy(session, settings.streamlit_startup_timeout_s)

    sidecar.start()
    try:
        asyncio.run(wait())
        os.environ["FLUXLIT_STREAMLIT_UPSTREAM"] = sidecar.url
        yield
    except SidecarError as exc:
        raise fail(str(exc), 1) from None
    finally:
        sidecar.stop()


@cli.command()
def dev(
    target: TargetArg = None,
    host: HostOpt = None,
    port: PortOpt = None,
    loop: LoopOpt = Loop.auto,
    reload: Annotated[bool, typer.Option("--reload/--no-reload", help="Restart on file changes")] = False,
    reload_scope: Annotated[
        ReloadScope, typer.Option("--reload-scope", help="gateway: reload the API/gateway only; full: restart Streamlit too")
    ] = ReloadScope.gateway,
) -> None:
    """Serve the app for development, optionally reloading on change."""
    settings = _settings(host, port)
    resolved, _ = _load(target)
    if not reload:
        run(target, host, port, loop)
        return
    sock = _bind(settings)
    _announce(settings)
    config = uvicorn_config("fluxlit.runtime:create_unified_app", settings, loop=loop.value, factory=True, reload_dirs=[resolved.app_dir])
    with contextlib.ExitStack() as stack:
        if reload_scope is ReloadScope.gateway and not settings.streamlit_upstream:
            stack.enter_context(_persistent_sidecar(resolved, settings))
        code = serve(config, sock)
    if code:
        raise fail("startup failed; the reason is logged above", code)


def main() -> None:
    """Console-script entry point."""
    cli()
