"""The request policy under ``fluxlit run`` in both lanes: what is refused with 400 never reaches the upstream.

Hostile requests go over raw sockets; the recording upstream says what it received (``/seen/MARK``
lists every target containing a mark, whatever route it hit).
"""

from collections.abc import Iterator

import pytest

from fluxlit._speedups.header_names import OVERRIDE_AND_IDENTITY
from tests.conftest import Gateway, running_gateway
from tests.support.raw_http import exchange, new_tag, seen, send

pytestmark = pytest.mark.integration

REFUSED_PATHS = [
    "/{m}/../x", "/{m}/./x", "/{m}/..", "/{m}/.", "/{m}/%2e%2e/x", "/{m}/%2E%2E/x", "/{m}/.%2e/x", "/{m}/%2e./x",
    "/{m}/..%2fx", "/{m}/..%2Fx", "/{m}/%2e%2e%5cx", "/{m}/..%5c", "/{m}\\x", "/{m}/%00", "/{m}%00.png", "//{m}/x",
    "/api/../{m}", "/api/%2e%2e/{m}", "/api/..%2f{m}", "/{m}/x?a=1/../../y".replace("?", "/../?"),
]  # fmt: skip
FORWARDED_PATHS = ["/echo/{m}/a%252e%252e/b", "/echo/{m}/.well-known/x", "/echo/{m}/a..b", "/echo/{m}/a%2fb", "/echo/{m}?x=/../.."]


def get(gateway: Gateway, target: str, *headers: str, version: str = "1.1", host: str = "t") -> bytes:
    lines = [f"GET {target} HTTP/{version}", *([f"Host: {host}"] if host is not None else []), *headers, "Connection: close"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


@pytest.mark.parametrize("pattern", REFUSED_PATHS)
def test_paths_that_mean_another_path_are_refused_and_never_forwarded(proxied_gateway: Gateway, recording_upstream: str, pattern: str) -> None:
    mark = new_tag()
    reply = exchange(proxied_gateway, get(proxied_gateway, pattern.format(m=mark)))
    assert reply.status == 400 and reply.closed
    assert reply.headers["x-request-id"].encode() in reply.body
    assert seen(recording_upstream, mark) == []


@pytest.mark.parametrize("pattern", FORWARDED_PATHS)
def test_odd_but_unambiguous_paths_are_forwarded_byte_for_byte(proxied_gateway: Gateway, pattern: str) -> None:
    target = pattern.format(m=new_tag())
    reply = exchange(proxied_gateway, get(proxied_gateway, target))
    assert reply.status == 200 and reply.json()["raw_path"] == target


def test_the_api_mount_is_guarded_too(proxied_gateway: Gateway) -> None:
    assert exchange(proxied_gateway, get(proxied_gateway, "/api/../api/healthz")).status == 400
    assert exchange(proxied_gateway, get(proxied_gateway, "/api/healthz")).status == 200


def test_header_names_with_underscores_are_dropped(proxied_gateway: Gateway) -> None:
    reply = exchange(proxied_gateway, get(proxied_gateway, "/echo/u", "Content_Length: 5", "X_Forwarded_For: 6.6.6.6",
                                          "transfer_encoding: chunked", "X-Dashed: 1"))  # fmt: skip
    names = [name.lower() for name, _ in reply.json()["headers"]]
    assert reply.status == 200 and "x-dashed" in names and not [n for n in names if "_" in n]


def test_override_and_identity_headers_never_reach_the_upstream(proxied_gateway: Gateway) -> None:
    sent = [f"{name.decode()}: /admin" for name in sorted(OVERRIDE_AND_IDENTITY)]
    reply = exchange(proxied_gateway, get(proxied_gateway, "/echo/o", *sent))
    names = {name.lower() for name, _ in reply.json()["headers"]}
    assert reply.status == 200 and not names & {n.decode() for n in OVERRIDE_AND_IDENTITY}


@pytest.fixture(scope="module")
def lenient_gateway(recording_upstream: str, lane: str) -> Iterator[Gateway]:
    """Underscores allowed, the loopback trusted as a proxy, and an allowlist naming an override header."""
    env = {
        "FLUXLIT_STREAMLIT_UPSTREAM": recording_upstream,
        "FLUXLIT_GATEWAY_ALLOW_UNDERSCORE_HEADERS": "1",
        "FLUXLIT_TRUST_PROXY": "1",
        "FLUXLIT_FORWARDED_ALLOW_IPS": "127.0.0.1",
        "FLUXLIT_GATEWAY_FORWARD_CLIENT_HEADERS_TO_STREAMLIT": "X-Original-URL,X_Custom,X-Custom",
    }
    with running_gateway(env=env, lane=lane) as gateway:
        yield gateway


def test_underscores_pass_when_allowed_but_override_headers_never_do(lenient_gateway: Gateway) -> None:
    reply = exchange(lenient_gateway, get(lenient_gateway, "/echo/l", "X_Custom: 1", "X-Original-URL: /admin", "True-Client-IP: 6.6.6.6"))
    names = {name.lower() for name, _ in reply.json()["headers"]}
    assert reply.status == 200 and "x_custom" in names
    assert not names & {"x-original-url", "true-client-ip"}


@pytest.mark.parametrize("host", ["a/b", "user@a", "a b", "a:99999", "a:0", "a:x", "a:", "[::1", "a\\b"])
def test_a_host_that_is_not_host_and_port_is_refused(proxied_gateway: Gateway, recording_upstream: str, host: str) -> None:
    mark = new_tag()
    reply = exchange(proxied_gateway, get(proxied_gateway, f"/echo/{mark}", host=host))
    assert reply.status == 400 and reply.closed and b"Host" in reply.body
    assert seen(recording_upstream, mark) == []


@pytest.mark.parametrize("host", ["example.com", "example.com:8443", "[::1]:8080", "127.0.0.1"])
def test_hosts_with_ports_are_forwarded(proxied_gateway: Gateway, host: str) -> None:
    reply = exchange(proxied_gateway, get(proxied_gateway, "/echo/h", host=host))
    assert reply.status == 200 and dict((k.lower(), v) for k, v in reply.json()["headers"])["host"] == host


@pytest.mark.parametrize("line", ["GET  /echo/{m} HTTP/1.1", "GET /echo/{m}  HTTP/1.1", "GET   /echo/{m}   HTTP/1.1"])
def test_a_request_line_with_extra_spaces_is_refused(proxied_gateway: Gateway, recording_upstream: str, line: str) -> None:
    mark = new_tag()
    reply = exchange(proxied_gateway, (line.format(m=mark) + "\r\nHost: t\r\n\r\n").encode())
    assert reply.status == 400 and reply.closed and b"request line" in reply.body
    assert seen(recording_upstream, mark) == []


def test_extra_spaces_in_a_pipelined_request_line_are_refused_after_the_first_answer(proxied_gateway: Gateway, recording_upstream: str) -> None:
    first, second = new_tag(), new_tag()
    data = f"GET /echo/{first} HTTP/1.1\r\nHost: t\r\n\r\nGET  /echo/{second} HTTP/1.1\r\nHost: t\r\n\r\n".encode()
    answers, _ = send(proxied_gateway, data)
    assert [status for status, _, _ in answers] == [200, 400]
    assert len(seen(recording_upstream, first)) == 1 and seen(recording_upstream, second) == []


def test_a_websocket_upgrade_over_http10_is_refused(proxied_gateway: Gateway, recording_upstream: str) -> None:
    mark = new_tag()
    reply = exchange(proxied_gateway, get(proxied_gateway, f"/ws?{mark}", "Upgrade: websocket", "Connection: Upgrade",
                                          "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version: 13",
                                          version="1.0"))  # fmt: skip
    assert reply.status == 400 and reply.closed and b"HTTP/1.0" in reply.body
    assert seen(recording_upstream, mark) == []


def test_options_asterisk_is_answered_by_the_gateway_and_keeps_the_connection(proxied_gateway: Gateway) -> None:
    data = b"OPTIONS * HTTP/1.1\r\nHost: t\r\n\r\nGET /echo/after HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"
    (options, headers, _), (status, _, body) = send(proxied_gateway, data)[0]
    assert options == 200 and "GET" in headers["allow"] and "OPTIONS" in headers["allow"]
    assert status == 200 and b'"raw_path": "/echo/after"' in body


def test_other_methods_with_an_asterisk_target_get_400(proxied_gateway: Gateway, recording_upstream: str) -> None:
    reply = exchange(proxied_gateway, b"GET * HTTP/1.1\r\nHost: t\r\n\r\n")
    assert reply.status == 400 and reply.closed and b"OPTIONS only" in reply.body
    assert seen(recording_upstream, "*") == []


def test_exactly_the_default_cap_of_100_header_fields_is_served(proxied_gateway: Gateway) -> None:
    fields = [f"X-F{i}: 1" for i in range(98)]  # with Host and Connection: 100 fields
    assert exchange(proxied_gateway, get(proxied_gateway, "/echo/count", *fields)).status == 200
    assert exchange(proxied_gateway, get(proxied_gateway, "/echo/count", *fields, "X-One-More: 1")).status == 431
