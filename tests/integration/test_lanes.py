"""The lane decision: ``fluxlit run`` splices proxied traffic by default; ``--lane asgi`` does not."""

import json

import httpx
import pytest
from websockets.sync.client import connect

from tests.conftest import DEMO, running_gateway
from tests.support.processes import run_cli

pytestmark = pytest.mark.integration


def spliced(url: str) -> int:
    return httpx.get(url + "/__fluxlit/debug").json()["spliced_requests"]


@pytest.mark.parametrize(("lane", "splices"), [(None, True), ("fast", True), ("asgi", False)])
def test_proxied_http_and_websockets_are_spliced_only_in_the_fast_lane(recording_upstream: str, lane: str | None, splices: bool) -> None:
    env = {"FLUXLIT_STREAMLIT_UPSTREAM": recording_upstream, "FLUXLIT_DEBUG": "1"}
    with running_gateway(env=env, lane=lane) as gateway:
        before = spliced(gateway.url)
        assert httpx.get(gateway.url + "/echo/lane").status_code == 200
        with connect(gateway.ws_url + "/ws") as ws:
            ws.send("hi")
            assert ws.recv(timeout=10) == "hi"
        assert httpx.get(gateway.url + "/api/hello").json() == {"hello": "world"}
        snapshot = httpx.get(gateway.url + "/__fluxlit/debug").json()
        output = gateway.proc.output()
    assert snapshot["lane"] == (lane or "fast")
    assert snapshot["spliced_requests"] - before == (2 if splices else 0)
    assert f"{lane or 'fast'} lane" in output


def test_an_unknown_lane_is_refused_with_the_accepted_values(tmp_path) -> None:
    result = run_cli("run", "--lane", "turbo", cwd=tmp_path)
    assert result.returncode == 2 and "fast" in result.stderr and "asgi" in result.stderr


def test_an_unknown_lane_in_the_environment_names_the_setting(tmp_path) -> None:
    result = run_cli("config", env={"FLUXLIT_GATEWAY_LANE": "turbo"}, cwd=tmp_path)
    assert result.returncode == 2 and "FLUXLIT_GATEWAY_LANE='turbo'" in result.stderr


@pytest.mark.parametrize("lane", ["fast", "asgi"])
def test_doctor_shows_the_lane(lane: str) -> None:
    result = run_cli("doctor", "--json", env={"FLUXLIT_GATEWAY_LANE": lane}, cwd=DEMO)
    rows = {row["name"]: row for row in json.loads(result.stdout)["checks"]}
    assert rows["gateway_lane"]["status"] == "PASS" and rows["gateway_lane"]["detail"].startswith(f"{lane}:")
