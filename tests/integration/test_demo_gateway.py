"""The demo app under a real ``fluxlit run`` with its real Streamlit child."""

import httpx
import pytest
from websockets.sync.client import connect

from tests.support.streamlit_session import run_streamlit_script

pytestmark = pytest.mark.integration


def test_liveness(demo_gateway) -> None:
    response = httpx.get(demo_gateway.url + "/api/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}
    assert len(response.headers["x-request-id"]) == 32


def test_readiness_checks_streamlit(demo_gateway) -> None:
    response = httpx.get(demo_gateway.url + "/api/readyz")
    assert response.status_code == 200 and response.json() == {"status": "ready", "streamlit": "ok"}


def test_api_route_with_prefix_stripped(demo_gateway) -> None:
    response = httpx.get(demo_gateway.url + "/api/hello", params={"name": "test"})
    assert response.status_code == 200 and response.json() == {"hello": "test"}


def test_unknown_api_route_is_fastapi_404_not_streamlit(demo_gateway) -> None:
    response = httpx.get(demo_gateway.url + "/api/nope")
    assert response.status_code == 404 and response.json() == {"detail": "Not Found"}


def test_openapi_lists_routes_without_probes(demo_gateway) -> None:
    spec = httpx.get(demo_gateway.url + "/api/openapi.json").json()
    assert set(spec["paths"]) == {"/hello", "/items"}
    docs = httpx.get(demo_gateway.url + "/api/docs")
    assert docs.status_code == 200 and "/api/openapi.json" in docs.text


def test_streamlit_html_at_root(demo_gateway) -> None:
    response = httpx.get(demo_gateway.url + "/")
    assert response.status_code == 200
    assert "<title>Streamlit</title>" in response.text or "streamlit" in response.text.lower()
    assert response.headers["content-type"].startswith("text/html")


def test_streamlit_health_passes_through(demo_gateway) -> None:
    response = httpx.get(demo_gateway.url + "/_stcore/health")
    assert response.status_code == 200 and response.text == "ok"


def test_request_id_is_kept_when_valid_and_replaced_when_not(demo_gateway) -> None:
    kept = httpx.get(demo_gateway.url + "/_stcore/health", headers={"x-request-id": "trace-123"})
    assert kept.headers["x-request-id"] == "trace-123"
    replaced = httpx.get(demo_gateway.url + "/api/hello", headers={"x-request-id": "bad id!"})
    assert replaced.headers["x-request-id"] != "bad id!" and len(replaced.headers["x-request-id"]) == 32


def test_streamlit_session_runs_over_the_proxied_websocket(demo_gateway) -> None:
    run = run_streamlit_script(demo_gateway.ws_url + "/_stcore/stream", origin=demo_gateway.url)
    assert len(run.headers["x-request-id"]) == 32
    assert run.kinds[0] == "new_session"
    # The page fetched this from /api through the ApiClient and the gateway.
    assert any("The API says hello to **page**." in text for text in run.texts)


def test_cross_origin_websocket_is_refused_by_streamlit(demo_gateway) -> None:
    with pytest.raises(Exception) as caught:
        with connect(demo_gateway.ws_url + "/_stcore/stream", subprotocols=["streamlit"], origin="http://evil.example"):
            pass
    assert "403" in str(caught.value) or "rejected" in str(caught.value).lower()
