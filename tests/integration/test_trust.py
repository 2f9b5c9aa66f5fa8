"""Proxy trust and the browser-header allowlist, observed from a real upstream that reports what it received."""

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from websockets.sync.client import connect

from tests.conftest import Gateway, running_gateway
from tests.support.edge import Edge, EdgeKind, edge_proxy
from tests.support.processes import free_port

pytestmark = pytest.mark.integration

# nginx reaches the gateway from this loopback address, the only one the trusting gateway allows.
PROXY_SOURCE = "127.0.0.2"
SPOOFED = {
    "x-forwarded-for": "6.6.6.6",
    "x-forwarded-proto": "https",
    "x-forwarded-host": "evil.example",
    "x-forwarded-prefix": "/evil",
    "forwarded": "for=6.6.6.6;proto=https",
    "x-real-ip": "6.6.6.6",
    "x-scheme": "https",
}
BROWSER = {
    "cookie": "_streamlit_xsrf=abc",
    "authorization": "Bearer secret",
    "x-api-key": "secret",
    "x-remote-user": "ada",
    "x-custom": "1",
    "accept-language": "en",
    "user-agent": "test-browser",
    "x-xsrftoken": "abc",
}


def nginx_site(listen_port: int, gateway_port: int) -> str:
    """nginx as a TLS-terminating edge would be configured, connecting from ``PROXY_SOURCE``."""
    return f"""
map $http_upgrade $fluxlit_connection {{
    default upgrade;
    ""      "";
}}
server {{
    listen 127.0.0.1:{listen_port};
    location / {{
        proxy_pass http://127.0.0.1:{gateway_port};
        proxy_bind {PROXY_SOURCE};
        proxy_http_version 1.1;
        proxy_set_header Host $http_host;
        proxy_set_header Upgrade $http_upgrade;
        proxy_set_header Connection $fluxlit_connection;
        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        proxy_set_header X-Forwarded-Proto https;
        proxy_set_header X-Forwarded-Host public.example;
    }}
}}
"""


@pytest.fixture(scope="module")
def trusting_gateway(recording_upstream: str, lane: str) -> Iterator[Gateway]:
    """A gateway that trusts only ``PROXY_SOURCE`` and forwards an allowlist of browser headers."""
    env = {
        "FLUXLIT_STREAMLIT_UPSTREAM": recording_upstream,
        "FLUXLIT_TRUST_PROXY": "1",
        "FLUXLIT_FORWARDED_ALLOW_IPS": PROXY_SOURCE,
        "FLUXLIT_GATEWAY_FORWARD_CLIENT_HEADERS_TO_STREAMLIT": "x-remote-user,authorization",
    }
    with running_gateway(env=env, lane=lane) as gateway:
        yield gateway


def _nginx(gateway: Gateway, workdir: Path) -> Iterator[Edge]:
    port = free_port()
    with edge_proxy(EdgeKind.NGINX, nginx_site(port, gateway.port), listen_port=port, workdir=workdir, ready_path="/api/healthz") as edge:
        yield edge


@pytest.fixture(scope="module")
def trusted_nginx(trusting_gateway: Gateway, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Edge]:
    yield from _nginx(trusting_gateway, tmp_path_factory.mktemp("nginx-trusted"))


@pytest.fixture(scope="module")
def nginx_before_untrusting_gateway(proxied_gateway: Gateway, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Edge]:
    yield from _nginx(proxied_gateway, tmp_path_factory.mktemp("nginx-untrusted"))


def received(url: str, headers: dict[str, str]) -> dict[str, list[str]]:
    """The headers the upstream's ``/echo`` saw for a request to ``url``."""
    response = httpx.get(url + "/echo/trust", headers=headers)
    assert response.status_code == 200
    seen: dict[str, list[str]] = {}
    for name, value in response.json()["headers"]:
        seen.setdefault(name.lower(), []).append(value)
    return seen


def test_spoofed_forwarding_headers_from_an_untrusted_peer_do_not_reach_the_upstream(trusting_gateway: Gateway) -> None:
    seen = received(trusting_gateway.url, SPOOFED)
    assert seen["x-forwarded-for"] == ["127.0.0.1"]
    assert seen["x-forwarded-proto"] == ["http"]
    assert seen["x-forwarded-host"] == [f"127.0.0.1:{trusting_gateway.port}"]
    assert not {"forwarded", "x-real-ip", "x-scheme", "x-forwarded-prefix"} & set(seen)
    assert "6.6.6.6" not in json.dumps(seen) and "evil" not in json.dumps(seen)


def test_trusted_proxy_chain_is_appended_and_its_proto_and_host_honoured(trusted_nginx: Edge) -> None:
    seen = received(trusted_nginx.url, SPOOFED)
    # The browser's claim, the address nginx saw, then nginx itself as the gateway saw it.
    assert seen["x-forwarded-for"] == [f"6.6.6.6, 127.0.0.1, {PROXY_SOURCE}"]
    assert seen["x-forwarded-proto"] == ["https"]
    assert seen["x-forwarded-host"] == ["public.example"]
    assert seen["host"] == [f"127.0.0.1:{trusted_nginx.port}"]
    assert not {"forwarded", "x-real-ip", "x-scheme"} & set(seen)


def test_proxy_headers_are_ignored_when_trust_is_off(nginx_before_untrusting_gateway: Edge) -> None:
    seen = received(nginx_before_untrusting_gateway.url, SPOOFED)
    assert seen["x-forwarded-for"] == [PROXY_SOURCE]
    assert seen["x-forwarded-proto"] == ["http"]
    assert seen["x-forwarded-host"] == [f"127.0.0.1:{nginx_before_untrusting_gateway.port}"]


def test_trusted_websocket_handshake_carries_the_appended_chain_and_one_host(trusted_nginx: Edge) -> None:
    with connect(trusted_nginx.ws_url + "/ws", additional_headers={"x-forwarded-for": "6.6.6.6"}, open_timeout=10) as ws:
        ws.send("headers")
        handshake = json.loads(ws.recv(timeout=10))
    names = [name.lower() for name, _ in handshake]
    assert names.count("host") == 1
    assert dict((n.lower(), v) for n, v in handshake)["x-forwarded-for"] == f"6.6.6.6, 127.0.0.1, {PROXY_SOURCE}"


def test_allowlist_forwards_streamlit_needs_and_listed_names_but_never_credentials(trusting_gateway: Gateway) -> None:
    seen = received(trusting_gateway.url, BROWSER)
    assert seen["x-remote-user"] == ["ada"] and seen["cookie"] == ["_streamlit_xsrf=abc"]
    assert seen["accept-language"] == ["en"] and seen["user-agent"] == ["test-browser"] and seen["x-xsrftoken"] == ["abc"]
    # authorization was listed but is refused; x-custom was not listed.
    assert not {"authorization", "x-api-key", "x-custom"} & set(seen)


def test_without_an_allowlist_browser_headers_pass_except_credentials(proxied_gateway: Gateway) -> None:
    seen = received(proxied_gateway.url, BROWSER)
    assert seen["x-custom"] == ["1"] and seen["x-remote-user"] == ["ada"] and seen["cookie"] == ["_streamlit_xsrf=abc"]
    assert not {"authorization", "x-api-key"} & set(seen)


def test_api_redirects_use_the_scheme_a_trusted_proxy_reports(trusting_gateway: Gateway, trusted_nginx: Edge) -> None:
    # Starlette redirects /items/ to /items with an absolute URL built from the request's scheme.
    direct = httpx.get(trusting_gateway.url + "/api/items/")
    behind_tls = httpx.get(trusted_nginx.url + "/api/items/")
    assert direct.status_code == behind_tls.status_code == 307
    assert direct.headers["location"] == f"http://127.0.0.1:{trusting_gateway.port}/api/items"
    assert behind_tls.headers["location"] == f"https://127.0.0.1:{trusted_nginx.port}/api/items"
