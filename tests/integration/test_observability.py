"""Access log, request log, Prometheus metrics and debug mode, observed on real ``fluxlit run`` processes."""

import json
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from tests.conftest import DEMO, Gateway, running_gateway, start_gateway
from tests.support.processes import fluxlit, free_port
from tests.support.streamlit_session import run_streamlit_script

pytestmark = pytest.mark.integration

WAIT_S = 15.0
BODY_CAP = 64 * 1024


def wait_for(probe: Callable[[], Any], what: str, timeout: float = WAIT_S) -> Any:
    """Poll ``probe`` until it returns something truthy (records are written after the response is sent)."""
    deadline = time.monotonic() + timeout
    while not (found := probe()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)
    return found


def json_records(gateway: Gateway, logger: str) -> list[dict[str, Any]]:
    records = []
    for line in gateway.proc.output().splitlines():
        if line.startswith("{"):
            record = json.loads(line)
            if record["logger"] == logger:
                records.append(record)
    return records


def access_record(gateway: Gateway, request_id: str, logger: str = "fluxlit.gateway.access") -> dict[str, Any]:
    return wait_for(
        lambda: next((r for r in json_records(gateway, logger) if r.get("request_id") == request_id), None),
        f"a {logger} record for {request_id}",
    )


def scrape(gateway: Gateway) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = httpx.get(gateway.url + "/__fluxlit/metrics")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(response.text)
        for s in family.samples
    }


def metric(samples: dict, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


@pytest.fixture(scope="module")
def observed(recording_upstream: str, lane: str) -> Iterator[Gateway]:
    """Access log in JSON, request logging and metrics on, in front of the recording upstream."""
    with running_gateway(
            env={
                "FLUXLIT_STREAMLIT_UPSTREAM": recording_upstream,
                "FLUXLIT_ENABLE_GATEWAY_ACCESS_LOG": "1",
                "FLUXLIT_ENABLE_REQUEST_LOGGING": "1",
                "FLUXLIT_ENABLE_GATEWAY_PROMETHEUS_METRICS": "1",
                "FLUXLIT_LOG_FORMAT": "json",
                "FLUXLIT_GATEWAY_MAX_PROXY_REQUEST_BODY_BYTES": str(BODY_CAP),
            },
            lane=lane,
        ) as gateway:
        yield gateway


@pytest.fixture(scope="module")
def debugging() -> Iterator[Gateway]:
    """The demo app with its real Streamlit child in debug mode, with a credential in a setting."""
    with running_gateway(env={"FLUXLIT_DEBUG": "1", "FLUXLIT_PUBLIC_BASE_URL": "https://ops:s3cret-pw@apps.example.com"}) as gateway:
        yield gateway


def test_access_log_line_is_written_when_a_streamed_response_ends(observed: Gateway) -> None:
    response = httpx.get(observed.url + "/bytes", params={"n": "300000"}, headers={"x-request-id": "acc-bytes-1"})
    assert response.status_code == 200
    record = access_record(observed, "acc-bytes-1")
    assert record["level"] == "INFO" and record["time"].endswith("Z")
    assert {k: record[k] for k in ("method", "path", "query", "status", "bytes_sent", "dispatch", "client")} == {
        "method": "GET",
        "path": "/bytes",
        "query": "n=300000",
        "status": 200,
        "bytes_sent": 300000,
        "dispatch": "streamlit",
        "client": "127.0.0.1",
    }
    assert record["message"].startswith('127.0.0.1 "GET /bytes?n=300000" 200 300000B ')
    assert record["message"].endswith(" streamlit request_id=acc-bytes-1")


def test_access_log_duration_spans_until_the_response_is_complete(observed: Gateway) -> None:
    httpx.get(observed.url + "/slow", params={"s": "1"}, headers={"x-request-id": "acc-slow-1"}, timeout=30)
    # The upstream sleeps a full second before answering: a line written at request start could not know that.
    assert access_record(observed, "acc-slow-1")["duration_ms"] >= 1000


def test_access_log_redacts_session_ids_and_codes_in_the_query(observed: Gateway) -> None:
    httpx.get(observed.url + "/echo/q?fluxlit_sid=sid-SECRET&auth_code=code-SECRET&Token=tok-SECRET&page=2", headers={"x-request-id": "acc-q-1"})
    record = access_record(observed, "acc-q-1")
    assert record["query"] == "fluxlit_sid=***&auth_code=***&Token=***&page=2"
    assert "SECRET" not in record["message"]


def test_websocket_access_line_carries_the_close_code_when_the_connection_ends(observed: Gateway) -> None:
    # Uncompressed, so both lanes count the same payload bytes (the fast lane counts them as on the wire).
    with connect(observed.ws_url + "/ws", additional_headers={"x-request-id": "acc-ws-1"}, compression=None) as ws:
        ws.send("hello")
        assert ws.recv(timeout=10) == "hello"
        ws.send("close:4321")
        with pytest.raises(ConnectionClosed):
            ws.recv(timeout=10)
    record = access_record(observed, "acc-ws-1")
    assert (record["method"], record["path"], record["status"], record["bytes_sent"], record["dispatch"]) == (
        "WEBSOCKET",
        "/ws",
        4321,
        5,
        "streamlit",
    )


def test_api_requests_appear_in_the_request_log_and_the_access_log(observed: Gateway) -> None:
    assert httpx.get(observed.url + "/api/hello", headers={"x-request-id": "api-log-1"}).status_code == 200
    assert access_record(observed, "api-log-1", "fluxlit.api")["message"] == "GET /api/hello -> 200"
    assert access_record(observed, "api-log-1")["dispatch"] == "api"
    httpx.get(observed.url + "/api/healthz", headers={"x-request-id": "probe-log-1"})
    assert access_record(observed, "probe-log-1")["dispatch"] == "ops"
    assert not [r for r in json_records(observed, "fluxlit.api") if r["request_id"] == "probe-log-1"]


def test_metrics_count_requests_by_dispatch_and_status_class(observed: Gateway) -> None:
    before = scrape(observed)
    for _ in range(3):
        httpx.get(observed.url + "/echo/m")
    httpx.get(observed.url + "/no-such-upstream-route")
    httpx.get(observed.url + "/api/hello")

    expected = {("streamlit", "2xx"): 3, ("streamlit", "4xx"): 1, ("api", "2xx"): 1}

    def delta(after: dict, name: str, dispatch: str, status_class: str) -> float:
        return metric(after, name, dispatch=dispatch, status_class=status_class) - metric(
            before, name, dispatch=dispatch, status_class=status_class
        )

    def settled() -> dict | None:
        # Counters move when each request ends, which can be just after its client has the response.
        after = scrape(observed)
        return after if all(delta(after, "fluxlit_gateway_requests_total", d, s) >= n for (d, s), n in expected.items()) else None

    after = wait_for(settled, "the request counters")
    for (d, s), n in expected.items():
        assert delta(after, "fluxlit_gateway_requests_total", d, s) == n
        assert delta(after, "fluxlit_gateway_request_duration_seconds_count", d, s) == n
    assert ("fluxlit_gateway_upstream_errors_total", ()) in after
    assert metric(after, "process_resident_memory_bytes") > 0
    assert not [key for key in after if key[0].startswith("fluxlit_") and any(k in ("path", "method") for k, _ in key[1])]


def test_body_limit_rejections_are_counted(observed: Gateway) -> None:
    before = metric(scrape(observed), "fluxlit_gateway_body_limit_rejections_total")
    response = httpx.post(observed.url + "/sink", content=b"x" * (BODY_CAP + 1), headers={"x-request-id": "cap-1"})
    assert response.status_code == 413
    assert access_record(observed, "cap-1")["status"] == 413
    assert metric(scrape(observed), "fluxlit_gateway_body_limit_rejections_total") == before + 1


def test_metrics_track_open_websockets_and_in_flight_requests(observed: Gateway) -> None:
    with connect(observed.ws_url + "/ws") as ws:
        ws.send("x")
        ws.recv(timeout=10)
        wait_for(lambda: metric(scrape(observed), "fluxlit_gateway_websockets_open") == 1, "one open WebSocket")
    wait_for(lambda: metric(scrape(observed), "fluxlit_gateway_websockets_open") == 0, "no open WebSocket")

    slow = threading.Thread(target=httpx.get, args=(observed.url + "/slow?s=3",), kwargs={"timeout": 30})
    slow.start()
    try:
        # The scrape itself is one request in flight; the slow one makes two.
        wait_for(lambda: metric(scrape(observed), "fluxlit_gateway_requests_in_flight") == 2, "two requests in flight")
    finally:
        slow.join()
    wait_for(lambda: metric(scrape(observed), "fluxlit_gateway_requests_in_flight") == 1, "only the scrape in flight")
    assert metric(scrape(observed), "fluxlit_gateway_requests_total", dispatch="streamlit", status_class="ws") >= 1


def test_debug_snapshot_is_404_and_not_proxied_when_debug_is_off(observed: Gateway) -> None:
    response = httpx.get(observed.url + "/__fluxlit/debug", headers={"x-request-id": "dbg-off-1"})
    assert response.status_code == 404 and response.text == "Not Found\n"
    assert access_record(observed, "dbg-off-1")["dispatch"] == "ops"


def test_metrics_endpoint_is_404_and_not_proxied_when_metrics_are_off(debugging: Gateway) -> None:
    response = httpx.get(debugging.url + "/__fluxlit/metrics")
    assert response.status_code == 404 and response.text == "Not Found\n"
    assert "x-request-id" in response.headers


def test_debug_mode_prints_the_internal_api_base_on_stderr(debugging: Gateway) -> None:
    lines = [line for line in debugging.proc.output().splitlines() if line.startswith("[fluxlit-debug] ")]
    assert len(lines) == 1
    assert lines[0].startswith(f"[fluxlit-debug] internal API base: http://127.0.0.1:{debugging.port}/api ")
    assert "snapshot: GET /__fluxlit/debug" in lines[0]


def snapshot(gateway: Gateway) -> dict[str, Any]:
    response = httpx.get(gateway.url + "/__fluxlit/debug")
    assert response.status_code == 200
    return response.json()


def dispatch_row(gateway: Gateway, request_id: str, path: str) -> dict[str, Any]:
    return wait_for(
        lambda: next((r for r in snapshot(gateway)["recent_dispatches"] if r["request_id"] == request_id and r["path"] == path), None),
        f"a dispatch row for {request_id} {path}",
    )


def test_debug_snapshot_redacts_settings_and_lists_recent_dispatches(debugging: Gateway) -> None:
    httpx.get(debugging.url + "/api/hello?name=x", headers={"x-request-id": "dbg-api-1"})
    httpx.get(debugging.url + "/no-such-page", headers={"x-request-id": "dbg-ui-1"})
    assert dispatch_row(debugging, "dbg-api-1", "/api/hello") == {
        "request_id": "dbg-api-1",
        "dispatch": "api",
        "method": "GET",
        "path": "/api/hello",
        "status": 200,
    }
    assert dispatch_row(debugging, "dbg-ui-1", "/no-such-page")["dispatch"] == "streamlit"
    response = httpx.get(debugging.url + "/__fluxlit/debug")
    body = response.json()
    assert "s3cret-pw" not in response.text
    assert body["settings"]["public_base_url"] == "https://***@apps.example.com"
    assert body["settings"]["debug"] is True
    assert (body["root_path"], body["api_mount_path"], body["api_prefix"]) == ("", "/api", "/api")
    assert body["internal_api_base"] == f"http://127.0.0.1:{debugging.port}/api"
    assert body["streamlit_upstream"].startswith("http://127.0.0.1:") and body["streamlit_unavailable"] is None
    assert 2 <= len(body["recent_dispatches"]) <= 32


def test_page_api_calls_carry_the_sessions_request_id_in_debug_mode(debugging: Gateway) -> None:
    # A Streamlit session as the browser opens it: the WebSocket handshake, then a script run request.
    run_streamlit_script(debugging.ws_url + "/_stcore/stream", headers={"x-request-id": "page-session-1"})
    # The demo's home page calls /hello and /items through its ApiClient.
    assert dispatch_row(debugging, "page-session-1", "/api/hello")["status"] == 200
    assert dispatch_row(debugging, "page-session-1", "/api/items")["status"] == 200
    text_line = '"GET /api/hello?name=page" 200 '
    assert wait_for(
        lambda: [ln for ln in debugging.proc.output().splitlines() if text_line in ln and ln.endswith("request_id=page-session-1")],
        "the page's API call in the text access log",
    )


def test_debug_snapshot_is_disabled_when_the_api_mount_shadows_it(recording_upstream: str) -> None:
    gateway = start_gateway(
        env={"FLUXLIT_DEBUG": "1", "FLUXLIT_API_MOUNT_PATH": "/__fluxlit", "FLUXLIT_STREAMLIT_UPSTREAM": recording_upstream},
        ready="/__fluxlit/readyz",
    )
    try:
        response = httpx.get(gateway.url + "/__fluxlit/debug")
        assert response.status_code == 404 and response.json() == {"detail": "Not Found"}  # FastAPI's, not the snapshot
        output = gateway.proc.output()
        assert "debug snapshot disabled: the API mount '/__fluxlit' shadows /__fluxlit/debug" in output
        assert "snapshot: off (the API mount shadows it)" in output
    finally:
        gateway.proc.stop()


def failed_startup(env: dict[str, str]) -> tuple[int, str]:
    proc = fluxlit("run", "--port", str(free_port()), cwd=DEMO, env=env)
    try:
        code = proc.wait(timeout=60)
    finally:
        proc.stop()
    return code, proc.output()


def test_metrics_path_under_the_api_mount_fails_startup(recording_upstream: str) -> None:
    code, output = failed_startup(
        {
            "FLUXLIT_ENABLE_GATEWAY_PROMETHEUS_METRICS": "1",
            "FLUXLIT_GATEWAY_PROMETHEUS_METRICS_PATH": "/api/metrics",
            "FLUXLIT_STREAMLIT_UPSTREAM": recording_upstream,
        }
    )
    assert code != 0
    assert "FLUXLIT_GATEWAY_PROMETHEUS_METRICS_PATH='/api/metrics' sits under the API mount '/api'" in output


def test_metrics_without_prometheus_client_fail_startup_with_the_install_hint(tmp_path: Path, recording_upstream: str) -> None:
    # Stand in for an environment where the extra was not installed: the import fails as it would there.
    hidden = tmp_path / "prometheus_client"
    hidden.mkdir()
    (hidden / "__init__.py").write_text("raise ImportError(\"No module named 'prometheus_client'\")\n")
    code, output = failed_startup(
        {"FLUXLIT_ENABLE_GATEWAY_PROMETHEUS_METRICS": "1", "FLUXLIT_STREAMLIT_UPSTREAM": recording_upstream, "PYTHONPATH": str(tmp_path)}
    )
    assert code != 0
    assert "pip install 'fluxlit[metrics]'" in output
