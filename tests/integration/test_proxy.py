"""The HTTP and WebSocket proxy, observed from a real upstream that reports what it received."""

import gzip
import hashlib
import json
import threading
import time

import httpx
import psutil
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from tests.conftest import start_gateway
from tests.support.processes import ROOT, free_port

pytestmark = pytest.mark.integration

MiB = 1024 * 1024
ARTIFACTS = ROOT / "test-artifacts"


def upstream_headers(payload: dict) -> dict[str, list[str]]:
    seen: dict[str, list[str]] = {}
    for name, value in payload["headers"]:
        seen.setdefault(name.lower(), []).append(value)
    return seen


def test_upstream_sees_host_forwarding_headers_and_request_id(proxied_gateway) -> None:
    response = httpx.get(
        proxied_gateway.url + "/echo/x?q=1",
        headers={"x-forwarded-for": "6.6.6.6", "x-real-ip": "6.6.6.6", "forwarded": "for=6.6.6.6", "x-request-id": "abc-1"},
    )
    seen = upstream_headers(response.json())
    assert seen["host"] == [f"127.0.0.1:{proxied_gateway.port}"]
    assert seen["x-forwarded-for"] == ["127.0.0.1"] and seen["x-forwarded-proto"] == ["http"]
    assert seen["x-forwarded-host"] == [f"127.0.0.1:{proxied_gateway.port}"]
    assert seen["x-request-id"] == ["abc-1"] and response.headers["x-request-id"] == "abc-1"
    assert "x-real-ip" not in seen and "forwarded" not in seen
    assert response.json()["raw_path"] == "/echo/x?q=1"


def test_request_target_is_not_decoded_or_reencoded(proxied_gateway) -> None:
    response = httpx.get(httpx.URL(proxied_gateway.url + "/echo/a%252e/%7Euser?x=%20y"))
    assert response.json()["raw_path"] == "/echo/a%252e/%7Euser?x=%20y"


def test_hop_by_hop_headers_do_not_reach_upstream(proxied_gateway) -> None:
    response = httpx.get(
        proxied_gateway.url + "/echo/h", headers={"connection": "keep-alive, x-private", "x-private": "1", "te": "trailers", "upgrade": "h2c"}
    )
    seen = upstream_headers(response.json())
    assert not {"x-private", "te", "upgrade", "http2-settings"} & set(seen)


def test_compressed_responses_pass_through_undecoded(proxied_gateway) -> None:
    with httpx.stream("GET", proxied_gateway.url + "/gzip", headers={"accept-encoding": "gzip"}) as response:
        raw = b"".join(response.iter_raw())
    assert response.headers["content-encoding"] == "gzip"
    assert gzip.decompress(raw) == b"compressed " * 1000


def _stream(total: int, chunk: bytes = b"\xab" * 65536):
    sent = 0
    while sent < total:
        piece = chunk[: min(len(chunk), total - sent)]
        sent += len(piece)
        yield piece


class PeakRss:
    """Samples a process's RSS in the background; ``peak`` is the highest value seen."""

    def __init__(self, pid: int) -> None:
        self.process = psutil.Process(pid)
        self.baseline = self.peak = self.process.memory_info().rss
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.process.memory_info().rss)
            time.sleep(0.005)

    def __enter__(self) -> "PeakRss":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def growth_mib(self) -> float:
        return (self.peak - self.baseline) / MiB


def test_50_mib_post_and_response_stream_with_bounded_memory(proxied_gateway) -> None:
    url = proxied_gateway.url
    with httpx.Client(timeout=60) as client:
        # Warm the pool and the code paths so the baseline is the steady state.
        client.post(url + "/sink", content=b"warm")
        client.get(url + "/bytes", params={"n": MiB})
        with PeakRss(proxied_gateway.proc.pid) as rss:
            body = _stream(50 * MiB)
            upload = client.post(url + "/sink", content=body, headers={"content-length": str(50 * MiB)})
            received = hashlib.sha256()
            size = 0
            with client.stream("GET", url + "/bytes", params={"n": 50 * MiB}) as download:
                for chunk in download.iter_raw():
                    received.update(chunk)
                    size += len(chunk)
    expected = hashlib.sha256(b"".join(_stream(50 * MiB))).hexdigest()
    assert upload.json() == {"size": 50 * MiB, "sha256": expected}
    assert size == 50 * MiB and download.headers["content-length"] == str(50 * MiB)
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "rss-50mib.json").write_text(json.dumps({"baseline_mib": rss.baseline / MiB, "peak_mib": rss.peak / MiB, "growth_mib": rss.growth_mib}))
    assert rss.growth_mib < 20, f"gateway RSS grew by {rss.growth_mib:.1f} MiB moving 50 MiB each way"


def test_chunked_upload_is_streamed_through(proxied_gateway) -> None:
    response = httpx.post(proxied_gateway.url + "/sink", content=_stream(3 * MiB + 17))
    assert response.json()["size"] == 3 * MiB + 17


def test_websocket_relays_text_binary_and_request_id(proxied_gateway) -> None:
    with connect(proxied_gateway.ws_url + "/ws", additional_headers={"x-request-id": "ws-trace-9"}, max_size=None) as ws:
        assert ws.response.headers["x-request-id"] == "ws-trace-9"
        ws.send("hello")
        assert ws.recv(timeout=10) == "hello"
        ws.send(b"\x00\x01" * 40000)
        assert ws.recv(timeout=10) == b"\x00\x01" * 40000
        ws.send("headers")
        seen = {name.lower(): value for name, value in json.loads(ws.recv(timeout=10))}
    assert seen["x-request-id"] == "ws-trace-9"
    assert seen["host"] == f"127.0.0.1:{proxied_gateway.port}" and seen["x-forwarded-for"] == "127.0.0.1"


def test_upstream_close_code_reaches_the_client(proxied_gateway) -> None:
    with connect(proxied_gateway.ws_url + "/ws") as ws:
        ws.send("close:4321")
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=10)
    assert closed.value.rcvd.code == 4321 and closed.value.rcvd.reason == "upstream says bye"


def test_client_close_code_reaches_the_upstream(proxied_gateway, recording_upstream: str) -> None:
    with connect(proxied_gateway.ws_url + "/ws") as ws:
        ws.send("ping")
        assert ws.recv(timeout=10) == "ping"
        ws.close(code=4100, reason="client done")
    deadline = time.monotonic() + 10
    while (seen := httpx.get(recording_upstream + "/last-close").json()) is None or seen["code"] != 4100:
        assert time.monotonic() < deadline, f"upstream saw {seen}"
        time.sleep(0.05)


def test_closed_upstream_gives_502_with_request_id(lane: str) -> None:
    gateway = start_gateway(env={"FLUXLIT_STREAMLIT_UPSTREAM": f"http://127.0.0.1:{free_port()}"}, ready="/api/healthz", lane=lane)
    try:
        response = httpx.get(gateway.url + "/anything", headers={"x-request-id": "rid-502"})
        assert response.status_code == 502
        assert response.headers["x-request-id"] == "rid-502" and "rid-502" in response.text
        assert "cannot connect to the Streamlit upstream" in response.text
        ready = httpx.get(gateway.url + "/api/readyz")
        assert ready.status_code == 503 and ready.json()["status"] == "not_ready"
        with pytest.raises(Exception, match="502"):
            with connect(gateway.ws_url + "/_stcore/stream"):
                pass
    finally:
        gateway.proc.stop()


def test_upstream_read_timeout_gives_502(recording_upstream: str, lane: str) -> None:
    gateway = start_gateway(env={"FLUXLIT_STREAMLIT_UPSTREAM": recording_upstream, "FLUXLIT_GATEWAY_UPSTREAM_READ_TIMEOUT_S": "0.5"}, lane=lane)
    try:
        response = httpx.get(gateway.url + "/slow", params={"s": "3"}, timeout=10)
        assert response.status_code == 502 and "timed out" in response.text
    finally:
        gateway.proc.stop()


def test_an_upload_answered_before_its_body_ends_is_read_to_the_end_not_reset(proxied_gateway) -> None:
    with httpx.Client(timeout=30) as client:
        early = client.post(proxied_gateway.url + "/early", content=_stream(8 * MiB), headers={"content-length": str(8 * MiB)})
        assert early.status_code == 200 and early.text == "early"
        after = client.get(proxied_gateway.url + "/echo/after")
    assert after.status_code == 200 and after.json()["raw_path"] == "/echo/after"
