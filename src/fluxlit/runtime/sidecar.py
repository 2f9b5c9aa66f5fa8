"""The Streamlit child process: start on a free loopback port, wait for health, stop in bounded steps."""

import asyncio
import ctypes
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from importlib import resources
from typing import TYPE_CHECKING

import aiohttp

if TYPE_CHECKING:
    from ..settings import FluxlitSettings
    from .target import Target

log = logging.getLogger("fluxlit.runtime")

ENTRY_SCRIPT = "fluxlit_entry.py"
_PR_SET_PDEATHSIG = 1


class SidecarError(RuntimeError):
    """Streamlit could not be started or did not become healthy."""


def entry_script_path() -> str:
    """Path of the Streamlit entry script shipped with the package."""
    return str(resources.files("fluxlit._entry").joinpath(ENTRY_SCRIPT))


def free_loopback_port() -> int:
    """An ephemeral port on 127.0.0.1 that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _die_with_parent() -> None:
    # Runs in the child between fork and exec: the kernel sends SIGTERM when the gateway dies,
    # even by SIGKILL, so Streamlit never outlives it.
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


# Its own process group (a Ctrl-C at the terminal reaches the gateway, which stops the child in
# order) and death with the parent; Windows has neither and takes the child as it is.
_POSIX_CHILD: dict[str, object] = {} if sys.platform == "win32" else {"start_new_session": True, "preexec_fn": _die_with_parent}


@dataclass
class StreamlitSidecar:
    """One ``streamlit run`` child serving the app's pages."""

    app_target: str
    app_dir: str
    api_prefix: str
    internal_api_base: str
    root_path: str = ""
    api_mount_path: str = "/api"
    log_level: str = "info"
    extra_args: tuple[str, ...] = ()
    stop_step_timeout_s: float = 5.0
    port: int = 0
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @classmethod
    def for_app(cls, target: "Target", settings: "FluxlitSettings", *extra_args: str, port: int = 0) -> "StreamlitSidecar":
        """A sidecar serving the app at ``target`` with the gateway's settings."""
        from .address import internal_api_base

        return cls(
            app_target=str(target),
            app_dir=target.app_dir,
            api_prefix=settings.api_prefix,
            api_mount_path=settings.api_mount_path,
            log_level=settings.log_level,
            internal_api_base=internal_api_base(settings),
            root_path=settings.root_path,
            extra_args=extra_args,
            stop_step_timeout_s=settings.streamlit_stop_step_timeout_s,
            port=port,
        )

    @property
    def url(self) -> str:
        """Base URL of the child (without the root path)."""
        return f"http://127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        """The ``streamlit run`` command line."""
        args = [
            sys.executable, "-m", "streamlit", "run", entry_script_path(),
            "--server.headless=true",
            f"--server.port={self.port}",
            "--server.address=127.0.0.1",
            "--browser.gatherUsageStats=false",
            "--global.developmentMode=false",
            "--client.toolbarMode=minimal",
            # Streamlit's own "server started on 127.0.0.1:<port>" reads like a second public server;
            # FluxLit announces the child itself. Its info lines come back with --log-level debug.
            f"--logger.level={'info' if self.log_level in ('debug', 'trace') else 'warning'}",
        ]  # fmt: skip
        if self.root_path:
            args.append(f"--server.baseUrlPath={self.root_path.strip('/')}")
        return [*args, *self.extra_args]

    def environment(self) -> dict[str, str]:
        """The child's environment: the parent's plus what the entry script needs."""
        return {
            **os.environ,
            "FLUXLIT_APP": self.app_target,
            "FLUXLIT_APP_DIR": self.app_dir,
            "FLUXLIT_API_PREFIX": self.api_prefix,
            # The app may set its mount in code; the child's ApiClient checks paths against it.
            "FLUXLIT_API_MOUNT_PATH": self.api_mount_path,
            "FLUXLIT_INTERNAL_API_BASE": self.internal_api_base,
            "FLUXLIT_ROOT_PATH": self.root_path,
            "FLUXLIT_STREAMLIT_CHILD": "1",
        }

    def start(self) -> None:
        """Spawn the child; it stops by itself if this process dies."""
        self.port = self.port or free_loopback_port()
        self.process = subprocess.Popen(
            self.command(),
            cwd=self.app_dir,
            env=self.environment(),
            stdin=subprocess.DEVNULL,
            # Streamlit's stdout banner advertises its private URL; its logs (stderr) stay visible.
            stdout=subprocess.DEVNULL,
            **_POSIX_CHILD,
        )
        log.info("started the Streamlit child (pid %d) on the internal address %s; browsers use the gateway", self.process.pid, self.url)

    def exit_code(self) -> int | None:
        """The child's exit code once it has exited, else ``None``."""
        return None if self.process is None else self.process.poll()

    async def wait_healthy(self, session: aiohttp.ClientSession, timeout_s: float) -> None:
        """Return once ``/_stcore/health`` answers 200; raise ``SidecarError`` on exit or timeout."""
        health = f"{self.url}{self.root_path}/_stcore/health"
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if (code := self.exit_code()) is not None:
                raise SidecarError(f"Streamlit exited with code {code} while starting; its error output is above")
            try:
                async with session.get(health, timeout=aiohttp.ClientTimeout(total=1.0)) as response:
                    if response.status == 200:
                        return
            except (aiohttp.ClientError, asyncio.TimeoutError, OSError):
                pass
            await asyncio.sleep(0.1)
        raise SidecarError(
            f"Streamlit did not answer {health} within {timeout_s:g}s; "
            "raise FLUXLIT_STREAMLIT_STARTUP_TIMEOUT_S if the app imports slowly"
        )

    def stop(self) -> int | None:
        """SIGINT, then terminate, then kill, each bounded; returns the exit code."""
        process = self.process
        if process is None or process.poll() is not None:
            return None if process is None else process.returncode
        # Streamlit stops cleanly on SIGINT; Windows can only terminate.
        interrupt = [] if sys.platform == "win32" else [lambda: process.send_signal(signal.SIGINT)]
        for step in (*interrupt, process.terminate, process.kill):
            step()
            try:
                return process.wait(self.stop_step_timeout_s)
            except subprocess.TimeoutExpired:
                continue
        return process.wait()
