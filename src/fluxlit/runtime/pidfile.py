"""The pid file ``fluxlit run``/``dev``/``workbench`` write, and stopping the server it names without hitting a stranger."""

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

SERVER_COMMANDS = frozenset({"run", "dev", "workbench"})


def read_pid(path: Path) -> int | None:
    """The pid in ``path``; ``None`` when the file holds no usable pid (``FileNotFoundError`` when absent)."""
    text = path.read_text(encoding="ascii", errors="replace").strip()
    return int(text) if text.isdigit() and int(text) > 0 else None


def command_line(pid: int) -> list[str] | None:
    """Arguments of a live process, or ``None`` when it is gone or a zombie."""
    proc = Path(f"/proc/{pid}")
    if Path("/proc/self").exists():
        try:
            state = (proc / "stat").read_text().rpartition(")")[2].split()[0]
            argv = (proc / "cmdline").read_bytes().split(b"\0")
        except (FileNotFoundError, ProcessLookupError, IndexError):
            return None
        return None if state in ("Z", "X") else [a.decode(errors="replace") for a in argv if a]
    result = subprocess.run(["ps", "-o", "stat=", "-o", "args=", "-p", str(pid)], capture_output=True, text=True, check=False)
    fields = result.stdout.split()
    return None if result.returncode or not fields or fields[0].startswith("Z") else fields[1:]


def is_fluxlit_server(argv: list[str]) -> bool:
    """Whether a command line is ``fluxlit run|dev|workbench`` (script or ``python -m fluxlit``)."""
    for index, arg in enumerate(argv):
        if Path(arg).name.removesuffix(".exe") == "fluxlit":
            return any(a in SERVER_COMMANDS for a in argv[index + 1 :])
    return False


@contextlib.contextmanager
def holding(path: Path | None) -> Iterator[None]:
    """Write this process's pid to ``path`` for the duration (nothing when ``path`` is ``None``).

    A file another live FluxLit server wrote is overwritten with a warning; on exit the file is removed
    only if it still names this process, so a second instance's file survives the first one's exit.
    """
    if path is None:
        yield
        return
    pid = os.getpid()
    _warn_if_taken(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"{pid}\n", encoding="ascii")
    except OSError as exc:
        print(
            f"fluxlit: warning: cannot write pid file {path} ({exc.strerror}); `fluxlit shutdown` will not find this server. "
            "Pass --pidfile with a writable path or --no-pidfile",
            file=sys.stderr,
        )
        yield
        return
    try:
        yield
    finally:
        with contextlib.suppress(OSError):
            if read_pid(path) == pid:
                path.unlink()


def _warn_if_taken(path: Path) -> None:
    with contextlib.suppress(OSError):
        other = read_pid(path)
        if other is not None and other != os.getpid() and is_fluxlit_server(command_line(other) or []):
            print(
                f"fluxlit: warning: pid file {path} names another running FluxLit server (pid {other}); overwriting it. "
                "Give each instance its own --pidfile",
                file=sys.stderr,
            )


@dataclass(frozen=True)
class ShutdownResult:
    """Exit code for ``fluxlit shutdown`` (0 stopped or stale, 1 still running or denied, 2 no pid file) and why."""

    exit_code: int
    message: str


def _wait_gone(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while command_line(pid) is not None:
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)
    return True


def _remove_if_names(path: Path, pid: int | None) -> None:
    with contextlib.suppress(OSError):
        if read_pid(path) == pid:
            path.unlink()


def stop_server(path: Path, *, wait: float, force: bool) -> ShutdownResult:
    """SIGTERM the FluxLit server named in ``path``; SIGKILL it after ``wait`` seconds when ``force``."""
    try:
        pid = read_pid(path)
    except FileNotFoundError:
        return ShutdownResult(
            2,
            f"no pid file at {path}; pass --pidfile PATH (or set FLUXLIT_PIDFILE) naming the file `fluxlit run` wrote",
        )
    except OSError as exc:
        return ShutdownResult(1, f"cannot read pid file {path}: {exc.strerror}")
    if pid is None:
        _remove_if_names(path, None)
        return ShutdownResult(0, f"pid file {path} did not hold a process id; removed it")
    argv = command_line(pid)
    if argv is None:
        _remove_if_names(path, pid)
        return ShutdownResult(0, f"stale pid file {path}: process {pid} is not running; removed it")
    if not is_fluxlit_server(argv):
        _remove_if_names(path, pid)
        return ShutdownResult(
            0,
            f"stale pid file {path}: process {pid} is {' '.join(argv)[:80]!r}, not a FluxLit server; "
            "left that process alone and removed the pid file",
        )
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        _remove_if_names(path, pid)
        return ShutdownResult(0, f"stale pid file {path}: process {pid} exited; removed it")
    except PermissionError:
        return ShutdownResult(1, f"not permitted to signal pid {pid} (from {path}); run shutdown as the user that started it")
    if _wait_gone(pid, wait):
        _remove_if_names(path, pid)
        return ShutdownResult(0, f"stopped FluxLit server (pid {pid})")
    if not force:
        return ShutdownResult(
            1,
            f"pid {pid} is still running {wait:g}s after SIGTERM (it may still be draining); "
            "wait longer with --wait SECONDS or pass --force to SIGKILL it",
        )
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    if _wait_gone(pid, 5.0):
        _remove_if_names(path, pid)
        return ShutdownResult(0, f"FluxLit server (pid {pid}) did not stop within {wait:g}s; killed it with SIGKILL")
    return ShutdownResult(1, f"pid {pid} survived SIGKILL (uninterruptible I/O?); check it with ps")

