"""W3C trace context passes through the gateway untouched, on HTTP and on the WebSocket handshake, in both lanes."""

import json

import httpx
import pytest
from websockets.sync.client import connect

pytestmark = pytest.mark.integration

TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
TRACESTATE = "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE"


def test_traceparent_and_tracestate_reach_streamlit_over_http(proxied_gateway) -> None:
    response = httpx.get(proxied_gateway.url + "/echo/traced", headers={"traceparent": TRACEPARENT, "tracestate": TRACESTATE})
    seen = {name.lower(): value for name, value in response.json()["headers"]}
    assert (seen["traceparent"], seen["tracestate"]) == (TRACEPARENT, TRACESTATE)


def test_traceparent_and_tracestate_reach_streamlit_on_the_websocket_handshake(proxied_gateway) -> None:
    with connect(proxied_gateway.ws_url + "/_stcore/stream", subprotocols=["streamlit"], additional_headers={"traceparent": TRACEPARENT, "tracestate": TRACESTATE}) as ws:
        ws.send("headers")
        seen = {name.lower(): value for name, value in json.loads(ws.recv(timeout=10))}
    assert (seen["traceparent"], seen["tracestate"]) == (TRACEPARENT, TRACESTATE)
