"""Two `fluxlit run` replicas behind nginx round-robin with a real redis-server: a user's state follows the
URL to the other replica and survives one replica being stopped; with memory stores it is lost, as documented."""

import contextlib
import re
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import redis

from tests.conftest import Gateway, running_gateway
from tests.support.edge import Edge, EdgeKind, edge_proxy, replace_once
from tests.support.processes import ROOT, free_port
from tests.support.redis_server import redis_server

pytestmark = pytest.mark.browser

EXAMPLE = ROOT / "examples" / "multi-replica"
ARTIFACTS = ROOT / "test-artifacts"
MAX_RELOADS = 10
STREAM_LINE = '"WEBSOCKET /_stcore/stream"'


@contextlib.contextmanager
def deployment(tmp_path: Path, redis_url: str | None, lane: str) -> Iterator[tuple[Edge, dict[str, Gateway]]]:
    """Replicas a and b of the example, and the example's nginx config in front of them."""
    shared = {"FLUXLIT_ENABLE_GATEWAY_ACCESS_LOG": "1", "FLUXLIT_TRUST_PROXY": "1"}
    if redis_url:
        shared["FLUXLIT_REDIS_URL"] = redis_url
    with (
        running_gateway(EXAMPLE, "--pidfile", str(tmp_path / "a.pid"), env={**shared, "REPLICA_NAME": "a"}, lane=lane) as a,
        running_gateway(EXAMPLE, "--pidfile", str(tmp_path / "b.pid"), env={**shared, "REPLICA_NAME": "b"}, lane=lane) as b,
    ):
        port = free_port()
        site = (EXAMPLE / "nginx.conf").read_text()
        site = replace_once(site, "listen 80;", f"listen 127.0.0.1:{port};", "nginx.conf")
        site = replace_once(site, "127.0.0.1:8001", f"127.0.0.1:{a.port}", "nginx.conf")
        site = replace_once(site, "127.0.0.1:8002", f"127.0.0.1:{b.port}", "nginx.conf")
        with edge_proxy(EdgeKind.NGINX, site, listen_port=port, workdir=tmp_path / "nginx", ready_path="/api/healthz") as edge:
            yield edge, {"a": a, "b": b}


def serving_replica(page) -> str:
    caption = page.get_by_text(re.compile(r"^served by replica [ab]$"))
    caption.wait_for(timeout=60_000)
    return caption.inner_text()[-1]


def fill(page, label: str, value: str) -> None:
    field = page.get_by_label(label)
    field.fill(value)
    field.press("Enter")


def reload_until_served_by_another(page, edge: Edge, first: str) -> str:
    for _ in range(MAX_RELOADS):
        page.reload()
        if (now := serving_replica(page)) != first:
            return now
        # A page load makes an even number of requests, so round-robin can keep sending its WebSocket to the
        # same replica; one more request (another user's, say) shifts the rotation.
        httpx.get(edge.url + "/api/healthz", timeout=10)
    raise AssertionError(f"{MAX_RELOADS} reloads all landed on replica {first}; nginx is not balancing")


def stream_lines(gateway: Gateway) -> int:
    return gateway.proc.output().count(STREAM_LINE)


def wait_for_stored(client: redis.Redis, expected: str) -> None:
    deadline = time.monotonic() + 30
    while not any(expected.encode() in (client.get(key) or b"") for key in client.keys("fluxlit:sid:*")):
        if time.monotonic() > deadline:
            raise AssertionError(f"{expected!r} never reached Redis")
        time.sleep(0.1)


def test_state_follows_the_url_across_replicas_and_survives_a_stopped_replica(browser, tmp_path: Path, lane: str) -> None:
    with redis_server(tmp_path / "redis") as redis_url, deployment(tmp_path, redis_url, lane) as (edge, replicas):
        store = redis.Redis.from_url(redis_url)
        page = browser.new_page()
        try:
            page.goto(edge.url + "/")
            first = serving_replica(page)
            fill(page, "Name", "Ada")
            fill(page, "Cups", "3")
            wait_for_stored(store, '"name":"Ada","cups":3')
            page.wait_for_url(re.compile(r".*fluxlit_sid=[A-Za-z0-9_-]{43}.*"))
            sid = re.search(r"fluxlit_sid=([A-Za-z0-9_-]+)", page.url).group(1)

            second = reload_until_served_by_another(page, edge, first)
            assert page.get_by_label("Name").input_value() == "Ada" and page.get_by_label("Cups").input_value() == "3"
            assert stream_lines(replicas[first]) >= 1, "the first session ended on the first replica (logged when it closes)"

            page.get_by_role("link", name="Summary").click()
            page.get_by_text("Ada ordered 3 cups.").wait_for(timeout=30_000)
            assert f"fluxlit_sid={sid}" in page.url, "the id survives st.navigation's page switch"
            page.get_by_role("link", name="Order").click()
            page.get_by_label("Name").wait_for(timeout=30_000)

            # The replica serving this session stops (a rolling deploy). The browser reconnects to the other
            # one and the user carries on: the next edit runs there, in a new Streamlit session.
            replicas[second].proc.stop(signal.SIGTERM)
            fill(page, "Cups", "4")
            page.get_by_text(f"served by replica {first}").wait_for(timeout=60_000)
            wait_for_stored(store, '"name":"Ada","cups":4')
            assert page.get_by_label("Name").input_value() == "Ada" and page.get_by_label("Cups").input_value() == "4"
            # Access lines are written when a request ends: the stopped replica's session is in its log now.
            assert stream_lines(replicas[second]) >= 1, "the second session ran on the other replica"
            ARTIFACTS.mkdir(exist_ok=True)
            lines = [f"replica {name}: {line}" for name, gateway in replicas.items() for line in gateway.proc.output().splitlines() if STREAM_LINE in line or "fluxlit_sid" in line]
            (ARTIFACTS / f"multi-replica-access-{lane}.log").write_text("\n".join(lines) + "\n")
            for gateway in replicas.values():
                assert sid not in gateway.proc.output(), "the session id is redacted in access logs"
            assert any("fluxlit_sid=***" in line for line in lines)
            page.screenshot(path=str(ARTIFACTS / f"multi-replica-after-failover-{lane}.png"), full_page=True)
        finally:
            page.close()
            store.close()


def test_with_memory_stores_the_other_replica_starts_empty(browser, tmp_path: Path, lane: str) -> None:
    with deployment(tmp_path, None, lane) as (edge, _):
        page = browser.new_page()
        try:
            page.goto(edge.url + "/")
            first = serving_replica(page)
            fill(page, "Name", "Ada")
            page.wait_for_url(re.compile(r".*fluxlit_sid=.*"))
            time.sleep(1)  # let the rerun that stores "Ada" finish before reloading
            reload_until_served_by_another(page, edge, first)
            assert page.get_by_label("Name").input_value() == "", "the other replica's memory never held this session"
        finally:
            page.close()
