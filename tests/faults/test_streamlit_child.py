"""The real Streamlit child killed under load: requests fail fast, readiness drops, the API stays up, the child comes back."""

import threading
import time

import httpx
import psutil
import pytest

from tests.conftest import Gateway, running_gateway

pytestmark = pytest.mark.integration

FAIL_FAST_S = 1.0
RECOVERY_S = 60.0


def streamlit_child(gateway: Gateway) -> psutil.Process:
    return next(p for p in gateway.proc.descendants() if "streamlit" in " ".join(p.cmdline()))


class Load(threading.Thread):
    """Clients fetching Streamlit's page in a loop; each request's start, end and outcome is kept."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url = url
        self.done = threading.Event()
        self.results: list[tuple[float, float, int | str]] = []
        self.start()

    def run(self) -> None:
        with httpx.Client(timeout=10) as client:
            while not self.done.is_set():
                started = time.monotonic()
                try:
                    outcome: int | str = client.get(self.url).status_code
                except httpx.HTTPError as exc:
                    outcome = type(exc).__name__
                self.results.append((started, time.monotonic(), outcome))


def wait_until(probe, what: str, within: float) -> float:  # noqa: ANN001 - a no-argument predicate
    """Seconds until ``probe()`` is true; fails after ``within``."""
    started = time.monotonic()
    while not probe():
        assert time.monotonic() - started < within, f"not {what} within {within:g}s"
        time.sleep(0.02)
    return time.monotonic() - started


def readiness(gateway: Gateway) -> int:
    return httpx.get(gateway.url + "/api/readyz", timeout=5).status_code


def test_a_killed_child_fails_requests_fast_drops_readiness_and_is_restarted(lane: str) -> None:
    with running_gateway(lane=lane) as gateway:
        loads = [Load(gateway.url + "/") for _ in range(4)]
        time.sleep(0.5)
        child = streamlit_child(gateway)
        killed = time.monotonic()
        child.kill()
        wait_until(lambda: readiness(gateway) == 503, "unready", FAIL_FAST_S)
        assert httpx.get(gateway.url + "/api/hello", timeout=5).json() == {"hello": "world"}
        wait_until(lambda: readiness(gateway) == 200, "ready again", RECOVERY_S)
        for load in loads:
            load.done.set()
            load.join(15)
        outcomes = [result for load in loads for result in load.results]
        # Every request in flight at the kill, or sent before the restart, ended within a second of the kill (or of its start).
        for started, ended, outcome in outcomes:
            assert outcome in (200, 502) or isinstance(outcome, str)
            if outcome != 200:
                assert ended - max(started, killed) < FAIL_FAST_S, (started - killed, ended - killed, outcome)
        assert any(outcome != 200 for _, _, outcome in outcomes) and outcomes[-1][2] == 200
        assert streamlit_child(gateway).pid != child.pid
        log = gateway.proc.output()
        assert "restarting in" in log and "Streamlit restarted" in log


def test_without_restart_a_dead_child_stays_down_and_says_why(lane: str) -> None:
    with running_gateway(env={"FLUXLIT_STREAMLIT_RESTART": "0"}, lane=lane) as gateway:
        streamlit_child(gateway).kill()
        wait_until(lambda: readiness(gateway) == 503, "unready", FAIL_FAST_S)
        time.sleep(2)
        answer = httpx.get(gateway.url + "/api/readyz", timeout=5)
        assert answer.status_code == 503 and "exited with code" in answer.json()["detail"]
        assert httpx.get(gateway.url + "/", timeout=5).status_code == 502
        assert "restarting in" not in gateway.proc.output()
