"""Graceful shutdown and the single-worker guard, on real processes."""

import signal
import sys
import threading
import time
import uuid

import httpx
import psutil
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from tests.conftest import DEMO, start_gateway
from tests.support.processes import Proc, free_port

pytestmark = pytest.mark.integration

BOUND_S = 30.0


def _streamlit(processes: list[psutil.Process]) -> list[psutil.Process]:
    return [p for p in processes if "streamlit" in " ".join(p.cmdline())]


def _wait_for(condition, what: str) -> None:  # noqa: ANN001 - a no-argument predicate
    deadline = time.monotonic() + BOUND_S
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def _alive(process: psutil.Process) -> bool:
    try:
        return process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


class InFlight(threading.Thread):
    """One HTTP request running in the background; ``response`` or ``error`` once it ends."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url = url
        self.response: httpx.Response | None = None
        self.error: BaseException | None = None
        self.start()

    def run(self) -> None:
        try:
            self.response = httpx.get(self.url, timeout=BOUND_S)
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            self.error = exc


def _close_code_after_sigterm(ws) -> int:  # noqa: ANN001 - websockets client connection
    with pytest.raises(ConnectionClosed) as closed:
        while True:
            ws.recv(timeout=BOUND_S)
    assert closed.value.rcvd is not None, "the gateway dropped the WebSocket without a close frame"
    return closed.value.rcvd.code


def test_sigterm_drains_in_flight_http_and_closes_websockets_with_1001(recording_upstream: str, lane: str) -> None:
    gateway = start_gateway(env={"FLUXLIT_STREAMLIT_UPSTREAM": recording_upstream}, lane=lane)
    try:
        with connect(gateway.ws_url + "/ws") as ws:
            ws.send("hello")
            assert ws.recv(timeout=10) == "hello"
            tag = uuid.uuid4().hex
            request = InFlight(f"{gateway.url}/record/{tag}?delay=2")
            _wait_for(lambda: httpx.get(f"{recording_upstream}/recorded/{tag}").json(), "the request to reach the upstream")
            gateway.proc.popen.send_signal(signal.SIGTERM)
            assert _close_code_after_sigterm(ws) == 1001
        request.join(BOUND_S)
        assert request.error is None and request.response is not None
        assert request.response.status_code == 200 and request.response.json()["complete"]
        assert gateway.proc.wait(BOUND_S) == 0, gateway.proc.output()
        assert httpx.get(recording_upstream + "/last-close").json()["code"] == 1001
    finally:
        gateway.proc.stop()


def test_sigterm_closes_streamlit_session_with_1001_exits_0_and_stops_streamlit() -> None:
    gateway = start_gateway()
    try:
        children = _streamlit(gateway.proc.descendants())
        assert children, "no Streamlit child was started"
        origin = gateway.url
        with connect(gateway.ws_url + "/_stcore/stream", subprotocols=["streamlit"], origin=origin, max_size=None) as ws:
            gateway.proc.popen.send_signal(signal.SIGTERM)
            assert _close_code_after_sigterm(ws) == 1001
        assert gateway.proc.wait(BOUND_S) == 0, gateway.proc.output()
        _wait_for(lambda: not any(_alive(p) for p in children), "the Streamlit child to exit")
    finally:
        gateway.proc.stop()


def _uvicorn_workers(workers: int, env: dict[str, str] | None = None) -> tuple[Proc, int]:
    port = free_port()
    args = [sys.executable, "-m", "uvicorn", "app:app", "--port", str(port), "--workers", str(workers)]
    return Proc(args, cwd=DEMO, env=env), port


def test_more_than_one_uvicorn_worker_fails_fast_naming_the_override() -> None:
    proc, _ = _uvicorn_workers(2)
    try:
        proc.wait(BOUND_S * 2)
        output = proc.output()
        assert "uvicorn is running 2 workers" in output and "FLUXLIT_ALLOW_UNIFIED_UVICORN_MULTIWORKER=1" in output
        assert "Application startup failed" in output
    finally:
        proc.stop()


def test_multiworker_override_lets_each_worker_start() -> None:
    proc, port = _uvicorn_workers(2, env={"FLUXLIT_ALLOW_UNIFIED_UVICORN_MULTIWORKER": "1"})
    try:
        ready = proc.wait_http(f"http://127.0.0.1:{port}/api/readyz", timeout=120)
        assert ready.json() == {"status": "ready", "streamlit": "ok"}
        assert "uvicorn is running 2 workers" not in proc.output()
    finally:
        proc.stop(signal.SIGTERM, timeout=BOUND_S)
