"""The ``fluxlit`` command line."""

import asyncio
import contextlib
import enum
import json
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import aiohttp
import typer

from . import __version__, config_report, scaffold
from . import doctor as diagnostics
from ._speedups import IMPLEMENTATION
from .project_file import ProjectFileError, read_project_file
from .runtime.address import loopback_host
from .runtime.pidfile import holding, stop_server
from .runtime.server import BindError, bind_socket, serve, uvicorn_config
from .runtime.sidecar import SidecarError, StreamlitSidecar
from .runtime.target import Target, TargetError, load_app, resolve_target
from .settings import FluxlitSettings, SettingsError, load_settings

if TYPE_CHECKING:
    from .app import FluxLit

# Plain help: rich panels cut long defaults at 80 columns and tag every option with its type.
cli = typer.Typer(help="FluxLit: a FastAPI API and a Streamlit UI behind one port.", no_args_is_help=True, add_completion=False, rich_markup_mode=None)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"fluxlit {__version__}")
        raise typer.Exit()


@cli.callback()
def _root(
    version: Annotated[bool, typer.Option("--version", callback=_print_version, is_eager=True, help="Print the FluxLit version and exit")] = False,
) -> None:
    """FluxLit: a FastAPI API and a Streamlit UI behind one port."""


class Loop(str, enum.Enum):
    auto = "auto"
    uvloop = "uvloop"
    asyncio = "asyncio"


class LaneChoice(str, enum.Enum):
    fast = "fast"
    asgi = "asgi"


class ReloadScope(str, enum.Enum):
    gateway = "gateway"
    full = "full"


TargetArg = Annotated[str | None, typer.Argument(help="module:attribute of the FluxLit app (default: project file target, else app:app)")]
HostOpt = Annotated[str | None, typer.Option("--host", help="Bind host (default: FLUXLIT_GATEWAY_HOST or 127.0.0.1)")]
PortOpt = Annotated[int | None, typer.Option("--port", min=1, max=65535, help="Bind port (default: FLUXLIT_GATEWAY_PORT or 8000)")]
LoopOpt = Annotated[Loop, typer.Option("--loop", help="Event loop implementation")]
LaneOpt = Annotated[
    LaneChoice | None,
    typer.Option("--lane", help="fast: proxied bytes spliced by the edge; asgi: everything through ASGI (default: FLUXLIT_GATEWAY_LANE or fast)"),
]
LogLevelOpt = Annotated[
    str | None, typer.Option("--log-level", help="critical, error, warning, info, debug or trace (default: FLUXLIT_LOG_LEVEL or info)")
]
ProxyHeadersOpt = Annotated[
    bool | None,
    typer.Option("--proxy-headers/--no-proxy-headers", help="Trust X-Forwarded-* from --forwarded-allow-ips peers (default: FLUXLIT_TRUST_PROXY)"),
]
ForwardedAllowIpsOpt = Annotated[
    str | None, typer.Option("--forwarded-allow-ips", help="Comma-separated IPs/CIDRs of trusted proxies (default: FLUXLIT_FORWARDED_ALLOW_IPS)")
]
WorkbenchOpt = Annotated[bool, typer.Option("--workbench", help="Behind an IDE/workbench proxy: proxy headers on, print loopback URLs")]
DebugOpt = Annotated[bool, typer.Option("--debug", help="Debug mode: debug snapshot and logs (FLUXLIT_DEBUG=1)")]
PidfileOpt = Annotated[Path | None, typer.Option("--pidfile", help="Pid file to write (default: FLUXLIT_PIDFILE or .fluxlit.pid)")]
NoPidfileOpt = Annotated[bool, typer.Option("--no-pidfile", help="Do not write a pid file")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of text")]


@dataclass(frozen=True)
class ServeFlags:
    """Serving flags of run, dev and workbench; exported as ``FLUXLIT_*`` so they win over env and project file."""

    host: str | None = None
    port: int | None = None
    log_level: str | None = None
    proxy_headers: bool | None = None
    forwarded_allow_ips: str | None = None
    debug: bool = False
    pidfile: Path | None = None
    no_pidfile: bool = False
    workbench: bool = False
    lane: LaneChoice | None = None

    def environment(self) -> dict[str, str]:
        """The ``FLUXLIT_*`` variables these flags set; flags left out leave env and project file in charge."""
        trust = True if self.workbench else self.proxy_headers
        values = {
            "FLUXLIT_GATEWAY_HOST": self.host,
            "FLUXLIT_GATEWAY_PORT": None if self.port is None else str(self.port),
            "FLUXLIT_LOG_LEVEL": self.log_level,
            "FLUXLIT_TRUST_PROXY": None if trust is None else str(int(trust)),
            "FLUXLIT_FORWARDED_ALLOW_IPS": self.forwarded_allow_ips,
            "FLUXLIT_DEBUG": "1" if self.debug else None,
            "FLUXLIT_PIDFILE": "" if self.no_pidfile else None if self.pidfile is None else str(self.pidfile),
            "FLUXLIT_GATEWAY_LANE": None if self.lane is None else self.lane.value,
        }
        return {name: value for name, value in values.items() if value is not None}


def fail(message: str, code: int) -> typer.Exit:
    """Print one error line to stderr and return the exit to raise."""
    typer.echo(f"fluxlit: {message}", err=True)
    return typer.Exit(code)


def _settings(flags: ServeFlags | None = None) -> FluxlitSettings:
    # The Streamlit child and reload workers read the same environment, so they see the flags too.
    os.environ.update(flags.environment() if flags else {})
    try:
        return load_settings()
    except SettingsError as exc:
        raise fail(str(exc), 2) from None


def _target(value: str | None) -> Target:
    try:
        return resolve_target(value)
    except TargetError as exc:
        raise fail(f"{exc} (working directory: {Path.cwd()})", 2) from None


def _load(value: str | None) -> tuple[Target, "FluxLit"]:
    target = _target(value)
    try:
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


def _announce(settings: FluxlitSettings, *, workbench: bool) -> None:
    base = f"http://{loopback_host(settings.gateway_host)}:{settings.gateway_port}{settings.root_path}"
    api = base + settings.api_mount_path
    if not workbench:
        typer.echo(f"FluxLit starting on {base}/ ({settings.gateway_lane} lane, {IMPLEMENTATION} kernels); a ready line follows once Streamlit answers", err=True)
        return
    prefix = f"root path {settings.root_path}" if settings.root_path else "no root path (set FLUXLIT_ROOT_PATH if the proxy keeps a prefix)"
    lines = [
        f"FluxLit workbench mode: proxy headers on, trusting X-Forwarded-* from {','.join(settings.forwarded_allow_ips)}; {prefix}",
        f"  app       {base}/",
        f"  healthz   {api}/healthz",
        f"  API docs  {api}/docs",
        "  Open the app through the workbench's proxied URL for this port; the loopback URLs work on this machine.",
    ]
    typer.echo("\n".join(lines), err=True)


def _pidfile(settings: FluxlitSettings) -> Path | None:
    return Path(settings.pidfile).absolute() if settings.pidfile else None


def _require_posix(command: str) -> None:
    """Serving binds, splices and signals with POSIX calls: on Windows, one line naming what works there."""
    if sys.platform == "win32":
        raise fail(f"`fluxlit {command}` needs Linux or macOS; on Windows serve the app with `uvicorn app:app` (the ASGI lane) or run fluxlit in WSL 2", 2)


def _serve_app(target: str | None, flags: ServeFlags, loop: Loop) -> None:
    """Serve in this process until stopped, without reload, holding the pid file meanwhile."""
    settings = _settings(flags)
    _, app = _load(target)
    sock = _bind(settings)
    _announce(settings, workbench=flags.workbench)
    with holding(_pidfile(settings)):
        code = serve(uvicorn_config(app, settings, loop=loop.value), sock)
    if code:
        raise fail("startup failed; the reason is logged above", code)


@cli.command()
def run(
    target: TargetArg = None,
    host: HostOpt = None,
    port: PortOpt = None,
    loop: LoopOpt = Loop.auto,
    lane: LaneOpt = None,
    log_level: LogLevelOpt = None,
    proxy_headers: ProxyHeadersOpt = None,
    forwarded_allow_ips: ForwardedAllowIpsOpt = None,
    workbench: WorkbenchOpt = False,
    debug: DebugOpt = False,
    pidfile: PidfileOpt = None,
    no_pidfile: NoPidfileOpt = False,
) -> None:
    """Serve the app in production: gateway, API and Streamlit child, no reload."""
    _require_posix("run")
    flags = ServeFlags(host, port, log_level, proxy_headers, forwarded_allow_ips, debug, pidfile, no_pidfile, workbench, lane)
    _serve_app(target, flags, loop)


@cli.command()
def workbench(
    target: TargetArg = None,
    host: HostOpt = None,
    port: PortOpt = None,
    loop: LoopOpt = Loop.auto,
    lane: LaneOpt = None,
    log_level: LogLevelOpt = None,
    forwarded_allow_ips: ForwardedAllowIpsOpt = None,
    debug: DebugOpt = False,
    pidfile: PidfileOpt = None,
    no_pidfile: NoPidfileOpt = False,
) -> None:
    """Serve behind an IDE/workbench proxy: `run --workbench` (proxy headers on, loopback URL hints)."""
    _require_posix("workbench")
    flags = ServeFlags(host, port, log_level, None, forwarded_allow_ips, debug, pidfile, no_pidfile, workbench=True, lane=lane)
    _serve_app(target, flags, loop)


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
    lane: LaneOpt = None,
    reload: Annotated[bool, typer.Option("--reload/--no-reload", help="Restart on file changes")] = False,
    reload_scope: Annotated[
        ReloadScope, typer.Option("--reload-scope", help="gateway: reload the API/gateway only; full: restart Streamlit too")
    ] = ReloadScope.gateway,
    log_level: LogLevelOpt = None,
    proxy_headers: ProxyHeadersOpt = None,
    forwarded_allow_ips: ForwardedAllowIpsOpt = None,
    workbench: WorkbenchOpt = False,
    debug: DebugOpt = False,
    pidfile: PidfileOpt = None,
    no_pidfile: NoPidfileOpt = False,
) -> None:
    """Serve the app for development, optionally reloading on change."""
    _require_posix("dev")
    flags = ServeFlags(host, port, log_level, proxy_headers, forwarded_allow_ips, debug, pidfile, no_pidfile, workbench, lane)
    if not reload:
        _serve_app(target, flags, loop)
        return
    settings = _settings(flags)
    resolved, _ = _load(target)
    sock = _bind(settings)
    _announce(settings, workbench=workbench)
    config = uvicorn_config("fluxlit.runtime:create_unified_app", settings, loop=loop.value, factory=True, reload_dirs=[resolved.app_dir])
    with contextlib.ExitStack() as stack:
        stack.enter_context(holding(_pidfile(settings)))
        if reload_scope is ReloadScope.gateway and not settings.streamlit_upstream:
            stack.enter_context(_persistent_sidecar(resolved, settings))
        code = serve(config, sock)
    if code:
        raise fail("startup failed; the reason is logged above", code)


@cli.command()
def shutdown(
    pidfile: Annotated[Path | None, typer.Option("--pidfile", help="Pid file of the server (default: FLUXLIT_PIDFILE or .fluxlit.pid)")] = None,
    force: Annotated[bool, typer.Option("--force", "-f", help="SIGKILL the server if it is still running after --wait")] = False,
    wait: Annotated[float, typer.Option("--wait", min=0, help="Seconds to wait for a graceful stop")] = 5.0,
) -> None:
    """Stop the server named in the pid file: SIGTERM, then SIGKILL with --force."""
    _require_posix("shutdown")
    if pidfile is None:
        configured = _settings().pidfile
        if not configured:
            raise fail("pid files are disabled (FLUXLIT_PIDFILE is empty); pass --pidfile PATH", 2)
        pidfile = Path(configured)
    result = stop_server(pidfile.absolute(), wait=wait, force=force)
    if result.exit_code:
        raise fail(result.message, result.exit_code)
    typer.echo(result.message)


@cli.command()
def doctor(
    target: TargetArg = None,
    as_json: JsonOpt = False,
    strict: Annotated[bool, typer.Option("--strict", help="Fail on risky proxy, subpath, timeout and header settings")] = False,
    warnings_only: Annotated[bool, typer.Option("--warnings-only", help="Show only WARN and FAIL rows")] = False,
    check_pages: Annotated[bool, typer.Option("--check-pages", help="Resolve every page's parameters and name async dependencies")] = False,
) -> None:
    """Check the app, its environment and its settings: PASS/WARN/FAIL rows, exit 1 on any FAIL."""
    resolved, rows = diagnostics.diagnose(target, strict=strict, check_pages=check_pages)
    shown = [row for row in rows if row.status != "PASS"] if warnings_only else rows
    if as_json:
        typer.echo(json.dumps(diagnostics.payload(resolved, rows, shown), indent=2))
    else:
        typer.echo(diagnostics.render(shown, rows))
    if diagnostics.overall(rows) == "fail":
        raise typer.Exit(1)


@cli.command()
def config(
    target: TargetArg = None,
    as_json: JsonOpt = False,
    strict: Annotated[bool, typer.Option("--strict", help="Exit 1 on any warning")] = False,
) -> None:
    """Show the effective settings with where each came from (secrets redacted) and any warnings."""
    settings = _settings()
    try:
        project_file = read_project_file().path
    except ProjectFileError as exc:
        raise fail(str(exc), 2) from None
    resolved = _target(target)
    try:
        app_settings, app_error = load_app(resolved).settings, None
    except (TargetError, SettingsError) as exc:
        app_settings, app_error = None, str(exc)
    payload = config_report.config_payload(str(resolved), project_file, settings, app_settings, app_error)
    typer.echo(json.dumps(payload, indent=2) if as_json else config_report.render_config(payload))
    levels = {warning["level"] for warning in payload["warnings"]}
    if "error" in levels or (strict and levels):
        raise typer.Exit(1)


@cli.command()
def build(
    target: TargetArg = None,
    output: Annotated[Path, typer.Option("--output", "-o", help="Directory to write into")] = Path("."),
    force: Annotated[bool, typer.Option("--force", "-f", help="Overwrite an existing Dockerfile/.dockerignore")] = False,
) -> None:
    """Write a production Dockerfile and .dockerignore for the app."""
    resolved = _target(target)
    spec = target or str(resolved)
    try:
        written = scaffold.write_build_files(output, spec, force=force)
    except OSError as exc:
        raise fail(str(exc), 1) from None
    typer.echo("\n".join(f"wrote {path}" for path in written))


@cli.command()
def new(name: Annotated[str, typer.Argument(help="Directory of the new project (e.g. my-app)")]) -> None:
    """Create a project: app.py, fluxlit.toml, tests/test_app.py and a README."""
    path = Path(name)
    try:
        written = scaffold.new_project(path)
    except OSError as exc:
        raise fail(str(exc), 1) from None
    typer.echo("\n".join(f"created {file}" for file in written))
    fluxlit, python = scaffold.commands_that_work()
    typer.echo(f"next: cd {path} && {fluxlit} doctor && {python} -m pytest && {fluxlit} run")


@cli.command()
def version() -> None:
    """Versions of FluxLit and what it runs on, the lane and the kernel twin in use."""
    typer.echo(diagnostics.version_report(_settings().gateway_lane))


def main() -> None:
    """Console-script entry point."""
    cli()
