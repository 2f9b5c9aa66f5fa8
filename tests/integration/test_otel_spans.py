"""OpenTelemetry spans through a real `fluxlit run`, exported over OTLP/HTTP to a real receiver: one per
gateway request in each lane, parented on the caller's traceparent, and the page-to-API call in between."""

import httpx
import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider

from fluxlit import FluxLit, FluxlitSettings
from tests.conftest import running_gateway
from tests.support.otlp_receiver import otlp_receiver
from tests.support.streamlit_session import run_streamlit_script

pytestmark = pytest.mark.integration

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT_ID = "00f067aa0ba902b7"
TRACEPARENT = f"00-{TRACE_ID}-{PARENT_ID}-01"
SERVER, CLIENT = 2, 3  # OTLP span kinds


def test_gateway_spans_continue_the_callers_trace_in_each_lane_and_pages_api_calls_link_up(lane: str) -> None:
    with otlp_receiver() as (endpoint, received):
        env = {"FLUXLIT_OTEL_TRACING": "1", "OTEL_EXPORTER_OTLP_ENDPOINT": endpoint, "OTEL_BSP_SCHEDULE_DELAY": "100"}
        with running_gateway(env=env, lane=lane) as gateway:
            httpx.get(gateway.url + "/api/hello", headers={"traceparent": TRACEPARENT, "x-request-id": "otel-api"})
            httpx.get(gateway.url + "/_stcore/health", headers={"traceparent": TRACEPARENT})
            api = received.wait_for(lambda s: s["attributes"].get("fluxlit.request_id") == "otel-api", "for the API request")[0]
            proxied = received.wait_for(lambda s: s["attributes"].get("url.path") == "/_stcore/health", "for the proxied request")[0]
            for span, dispatch in ((api, "api"), (proxied, "streamlit")):
                assert span["name"] == "fluxlit.gateway.request" and span["kind"] == SERVER
                assert (span["trace_id"], span["parent_span_id"]) == (TRACE_ID, PARENT_ID)
                assert span["attributes"]["fluxlit.dispatch"] == dispatch and span["attributes"]["http.response.status_code"] == 200

            # The demo's home page calls /hello through its ApiClient, inside the session's trace.
            run_streamlit_script(gateway.ws_url + "/_stcore/stream", headers={"traceparent": TRACEPARENT})
            call = received.wait_for(lambda s: s["name"] == "fluxlit.page.api_call" and "/hello" in s["attributes"]["url.full"], "for the page's API call")[0]
            assert (call["kind"], call["trace_id"], call["parent_span_id"]) == (CLIENT, TRACE_ID, PARENT_ID)
            served = received.wait_for(
                lambda s: s["name"] == "fluxlit.gateway.request" and s["parent_span_id"] == call["span_id"], "for the API request the page made"
            )[0]
            assert served["attributes"]["url.path"] == "/api/hello" and served["attributes"]["fluxlit.dispatch"] == "api"


def test_tracing_off_builds_no_observer_so_requests_pay_nothing() -> None:
    assert FluxLit(settings=FluxlitSettings()).gateway.observer is None
    # A provider without exporters, so this process never sends spans anywhere (FluxLit would otherwise
    # install the OTLP one, and FastAPI would trace every later in-process test to localhost:4318).
    if isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider):
        trace.set_tracer_provider(TracerProvider())
    assert FluxLit(settings=FluxlitSettings(otel_tracing=True)).gateway.observer.tracer is not None
