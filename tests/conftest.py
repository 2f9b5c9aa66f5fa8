"""Shared fixtures: kernel twins, the demo app under ``fluxlit run``, a recording upstream."""

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType

import pytest

from fluxlit._speedups import load_twin
from tests.support.processes import ROOT, Proc, fluxlit, free_port

DEMO = ROOT / "examples" / "demo"
UPSTREAM_SERVER = Path(__file__).parent / "support" / "upstream_server.py"


@pytest.fixture(params=["pure", "compiled"])
def implementation(request: pytest.FixtureRequest) -> str:
    """Each kernel test runs once per twin."""
    return request.param


def twin(kernel: str, implementation: str) -> ModuleType:
    """One twin of a kernel; a missing compiled twin is a failure (build it with `make install`)."""
    try:
        return load_twin(kernel, implementation)  # type: ignore[arg-type]
    except ImportError as exc:
        pytest.fail(f"the compiled {kernel} kernel is not built ({exc}); run `make install` to compile it")


class Gateway:
    """A running ``fluxlit run`` process and its base URL."""

    def __init__(self, proc: Proc, port: int, lane: str = "fast") -> None:
        self.proc = proc
        self.port = port
        self.lane = lane
        self.url = f"http://127.0.0.1:{port}"
        self.ws_url = f"ws://127.0.0.1:{port}"


LANES = ("fast", "asgi")


@pytest.fixture(scope="session", params=LANES)
def lane(request: pytest.FixtureRequest) -> str:
    """Tests of proxied traffic run once per lane: spliced by the edge, and through ASGI."""
    return request.param


def start_gateway(
    cwd: Path = DEMO, *args: str, env: dict[str, str] | None = None, ready: str = "/api/readyz", lane: str | None = None
) -> Gateway:
    """``fluxlit run`` on a free port (in ``lane`` when given), returned once ``ready`` answers 200."""
    port = free_port()
    lane_args = ("--lane", lane) if lane else ()
    proc = fluxlit("run", *args, *lane_args, "--port", str(port), cwd=cwd, env=env)
    gateway = Gateway(proc, port, lane or "fast")
    try:
        proc.wait_http(gateway.url + ready, timeout=90)
    except BaseException:
        proc.stop()
        raise
    return gateway


@contextmanager
def running_gateway(
    cwd: Path = DEMO, *args: str, env: dict[str, str] | None = None, ready: str = "/api/readyz", lane: str | None = None
) -> Iterator[Gateway]:
    """``start_gateway`` for a ``with`` block: the process and its children are stopped at the end."""
    gateway = start_gateway(cwd, *args, env=env, ready=ready, lane=lane)
    try:
        yield gateway
    finally:
        gateway.proc.stop()


@pytest.fixture(scope="session")
def demo_gateway() -> Iterator[Gateway]:
    """The demo app with its real Streamlit child, shared by read-only tests."""
    with running_gateway() as gateway:
        yield gateway


@pytest.fixture(scope="session")
def recording_upstream() -> Iterator[str]:
    """A real HTTP/WebSocket server that reports what it received (see support/upstream_server.py)."""
    port = free_port()
    proc = Proc([sys.executable, str(UPSTREAM_SERVER), str(port)], cwd=ROOT)
    url = f"http://127.0.0.1:{port}"
    try:
        proc.wait_http(url + "/_stcore/health", timeout=30)
        yield url
    finally:
        proc.stop()


@pytest.fixture(scope="session")
def proxied_gateway(recording_upstream: str, lane: str) -> Iterator[Gateway]:
    """The demo app's gateway in front of the recording upstream instead of Streamlit, in each lane."""
    with running_gateway(env={"FLUXLIT_STREAMLIT_UPSTREAM": recording_upstream}, lane=lane) as gateway:
        yield gateway


def pure_mode() -> bool:
    """Whether this run asked for the pure-Python kernels."""
    return os.environ.get("FLUXLIT_PURE_PYTHON", "").strip().lower() in {"1", "true", "yes", "on"}
