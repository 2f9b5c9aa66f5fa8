"""Start real processes for tests and always clean them up (children included)."""

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import httpx
import psutil

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def free_port() -> int:
    """A currently free loopback port."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Proc:
    """A started process with its output in a file, stoppable with all its descendants."""

    def __init__(self, args: Sequence[str], *, cwd: Path, env: dict[str, str] | None = None) -> None:
        self.args = list(args)
        self.log = tempfile.NamedTemporaryFile(prefix="fluxlit-test-", suffix=".log", delete=False)
        self.popen = subprocess.Popen(
            self.args,
            cwd=cwd,
            env={**os.environ, **(env or {})},
            stdin=subprocess.DEVNULL,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.pid = self.popen.pid

    def output(self) -> str:
        """Everything the process printed so far."""
        return Path(self.log.name).read_text(errors="replace")

    def descendants(self) -> list[psutil.Process]:
        """Live child processes (recursive)."""
        try:
            return psutil.Process(self.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            return []

    def wait(self, timeout: float) -> int:
        """Exit code, waiting at most ``timeout`` seconds."""
        return self.popen.wait(timeout)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20.0) -> int:
        """Signal the process, wait, then make sure nothing it started is left."""
        kids = self.descendants()
        if self.popen.poll() is None:
            self.popen.send_signal(sig)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(5)
        for kid in kids:
            try:
                kid.kill()
            except psutil.NoSuchProcess:
                pass
        psutil.wait_procs(kids, timeout=5)
        self.log.close()
        return self.popen.returncode

    def wait_http(self, url: str, *, timeout: float = 60.0, status: int = 200) -> httpx.Response:
        """Poll ``url`` until it answers ``status``; fail with the process output otherwise."""
        deadline = time.monotonic() + timeout
        last: object = None
        while time.monotonic() < deadline:
            if self.popen.poll() is not None:
                raise AssertionError(f"{self.args} exited with {self.popen.returncode}:\n{self.output()}")
            try:
                response = httpx.get(url, timeout=2)
                if response.status_code == status:
                    return response
                last = response.status_code
            except httpx.HTTPError as exc:
                last = exc
            time.sleep(0.1)
        raise AssertionError(f"{url} did not answer {status} within {timeout}s (last: {last!r}):\n{self.output()}")


def fluxlit(*args: str, cwd: Path, env: dict[str, str] | None = None) -> Proc:
    """Start the installed ``fluxlit`` command."""
    return Proc([str(BIN / "fluxlit"), *args], cwd=cwd, env=env)


def run_cli(*args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run ``fluxlit`` to completion and capture its output."""
    return subprocess.run(
        [str(BIN / "fluxlit"), *args], cwd=cwd, env={**os.environ, **(env or {})}, capture_output=True, text=True, timeout=timeout
    )
