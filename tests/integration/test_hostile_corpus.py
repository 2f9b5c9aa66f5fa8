"""A corpus of hostile requests, each sent over a raw socket to ``fluxlit run`` in both lanes.

Every case is either refused by the gateway (a 4xx it writes itself, and nothing carrying the
case's mark reaches the upstream) or forwarded safely (the upstream's view of it passes the
case's check). ``unsafe`` cases do not exist: a case that reaches the upstream in a way its check
rejects fails the test. The corpus is generated from families of attacks, so its size is the
product of their variants (asserted at the bottom).
"""

from collections.abc import Callable
from dataclasses import dataclass

import pytest

from tests.conftest import Gateway
from tests.support.raw_http import Reply, exchange, new_tag, seen

pytestmark = pytest.mark.integration

Check = Callable[[dict[str, list[str]], dict], bool]
"""A forwarded case's check on the upstream's view: header values by lower-case name, and the echo."""


@dataclass(frozen=True)
class Case:
    name: str
    request: str  # with {m} for the mark; CRLF line ends are written as \r\n
    refused: bool
    check: Check | None = None


def refuse(name: str, request: str) -> Case:
    return Case(name, request, True)


def forward(name: str, request: str, check: Check) -> Case:
    return Case(name, request, False, check)


def get(target: str, *headers: str, version: str = "1.1", method: str = "GET") -> str:
    return f"{method} {target} HTTP/{version}\r\n" + "".join(h + "\r\n" for h in ("Host: t", *headers)) + "Connection: close\r\n\r\n"


def absent(*names: str) -> Check:
    return lambda headers, _: not any(name in headers for name in names)


def only(name: str, value: str) -> Check:
    return lambda headers, _: headers.get(name) == [value]


CORPUS: list[Case] = []

# Paths that mean another path once normalised, under every prefix the gateway routes.
DOT_PATTERNS = ["/../x", "/./x", "/..", "/.", "/%2e%2e/x", "/%2E%2E/x", "/.%2e/x", "/%2e./x", "/%2e/x", "/..%2fx", "/..%2Fx",
                "/%2e%2e%2fx", "/..%5cx", "/%2e%2e%5Cx", "/..\\x", "/a/../../x", "/%2e%2e", "/.%2E"]  # fmt: skip
for prefix in ("", "/api", "/_stcore", "/static", "/media"):
    for pattern in DOT_PATTERNS:
        CORPUS.append(refuse(f"dot {prefix}{pattern}", get(f"{prefix}/{{m}}{pattern}")))
for target in ["/{m}\\x", "/{m}%00", "/{m}%00.js", "/%00{m}", "//{m}", "//{m}/x", "///{m}", "/{m}/%2e%2e%00"]:
    CORPUS.append(refuse(f"path {target}", get(target)))
for target in ["/echo/{m}/%252e%252e/x", "/echo/{m}/a%2fb", "/echo/{m}/a%5cb", "/echo/{m}/.hidden", "/echo/{m}/a..b", "/echo/{m}?x=/../../etc"]:
    CORPUS.append(forward(f"odd path {target}", get(target), lambda _, echo, t=target: echo["raw_path"] == t.replace("{m}", echo["mark"])))

# Host values that are not host[:port], and some that are.
for host in ["a/b", "a/../b", "user@a", "user:pw@a", "a b", "a\tb", "a:99999", "a:0", "a:", "a:-1", "a:80:80", "a:8o", "[::1",
             "[zz]", "[::1]x", "a\\b", "a?b", "a#b", "a;b@c"]:  # fmt: skip
    CORPUS.append(refuse(f"host {host!r}", f"GET /echo/{{m}} HTTP/1.1\r\nHost: {host}\r\n\r\n"))
for host in ["example.com", "example.com:8443", "[::1]:8080", "127.0.0.1", "xn--bcher-kva.example"]:
    CORPUS.append(forward(f"host {host!r}", f"GET /echo/{{m}} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n", only("host", host)))
CORPUS.append(refuse("two hosts", "GET /echo/{m} HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"))
CORPUS.append(refuse("no host on 1.1", "GET /echo/{m} HTTP/1.1\r\nX-A: 1\r\n\r\n"))

# Framing that two parsers could read differently.
SMUGGLING = {
    "cl+te": "Content-Length: 4\r\nTransfer-Encoding: chunked",
    "te+cl": "Transfer-Encoding: chunked\r\nContent-Length: 4",
    "two cl": "Content-Length: 4\r\nContent-Length: 4",
    "two cl differ": "Content-Length: 4\r\nContent-Length: 5",
    "cl list": "Content-Length: 4, 4",
    "cl plus": "Content-Length: +4",
    "cl negative": "Content-Length: -4",
    "cl hex": "Content-Length: 0x4",
    "cl space inside": "Content-Length: 4 4",
    "te gzip chunked": "Transfer-Encoding: gzip, chunked",
    "te chunked gzip": "Transfer-Encoding: chunked, gzip",
    "te identity": "Transfer-Encoding: identity",
    "te xchunked": "Transfer-Encoding: xchunked",
    "te two fields": "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked",
    "te space before colon": "Transfer-Encoding : chunked",
    "te vertical tab": "Transfer-Encoding:\x0bchunked",
    "te obs-fold": "Transfer-Encoding:\r\n chunked",
    "cl obs-fold": "Content-Length:\r\n 4",
}
for name, headers in SMUGGLING.items():
    CORPUS.append(refuse(f"framing {name}", f"POST /echo/{{m}} HTTP/1.1\r\nHost: t\r\n{headers}\r\n\r\n4\r\nabcd\r\n0\r\n\r\n"))
CORPUS.append(refuse("te on 1.0", "POST /echo/{m} HTTP/1.0\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n0\r\n\r\n"))
for name, body in {"chunk size overflow": "ffffffffffffffffffff\r\nx\r\n0\r\n\r\n", "chunk size not hex": "zz\r\nx\r\n0\r\n\r\n",
                   "chunk without crlf": "4\r\nabcdX0\r\n\r\n", "negative chunk": "-4\r\nabcd\r\n0\r\n\r\n"}.items():  # fmt: skip
    CORPUS.append(refuse(f"chunked {name}", f"POST /echo/{{m}} HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n{body}"))
CORPUS.append(forward("chunked trailers dropped", "POST /echo/{m} HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
                      "3\r\nabc\r\n0\r\nX-Injected: 1\r\nX-Forwarded-For: 6.6.6.6\r\n\r\n",
                      lambda h, echo: "x-injected" not in h and h["x-forwarded-for"] == ["127.0.0.1"] and echo["body_size"] == 3))  # fmt: skip

# Bytes that must not be in a head.
for name, line in {"nul in value": "X-A: a\x00b", "cr in value": "X-A: a\rb", "bel in value": "X-A: a\x07b", "space in name": "X A: 1",
                   "space before colon": "X-A : 1", "non-token name": "X-\u00e9: 1", "empty name": ": 1", "obs-fold": "X-A: a\r\n b",
                   "bare lf": "X-A: 1\nX-B: 2", "colon-less line": "X-A"}.items():  # fmt: skip
    CORPUS.append(refuse(f"head {name}", f"GET /echo/{{m}} HTTP/1.1\r\nHost: t\r\n{line}\r\n\r\n"))

# Request lines.
for name, line in {"two spaces after method": "GET  /echo/{m} HTTP/1.1", "two spaces before version": "GET /echo/{m}  HTTP/1.1",
                   "tab after method": "GET\t/echo/{m} HTTP/1.1", "space in target": "GET /echo/{m} x HTTP/1.1",
                   "version 1.2": "GET /echo/{m} HTTP/1.2", "version 2.0": "GET /echo/{m} HTTP/2.0", "version 0.9": "GET /echo/{m} HTTP/0.9",
                   "no version": "GET /echo/{m}", "lower-case version": "GET /echo/{m} http/1.1", "trailing space": "GET /echo/{m} HTTP/1.1 ",
                   "authority form": "CONNECT {m}.example:443 HTTP/1.1", "asterisk get": "GET * HTTP/1.1?{m}",
                   "relative target": "GET echo/{m} HTTP/1.1", "scheme-less authority": "GET //{m}.example/x HTTP/1.1"}.items():  # fmt: skip
    CORPUS.append(refuse(f"request line {name}", f"{line}\r\nHost: t\r\n\r\n"))
CORPUS.append(forward("absolute form keeps the host header", "GET http://evil.example/echo/{m} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
                      only("host", "t")))  # fmt: skip

# WebSocket and upgrade tricks.
WS = "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
CORPUS.append(refuse("websocket over 1.0", f"GET /ws?{{m}} HTTP/1.0\r\nHost: t\r\n{WS}\r\n"))
CORPUS.append(refuse("websocket over 1.0, no connection token", "GET /ws?{m} HTTP/1.0\r\nHost: t\r\nUpgrade: websocket\r\n\r\n"))
CORPUS.append(refuse("websocket with two hosts", f"GET /ws?{{m}} HTTP/1.1\r\nHost: a\r\nHost: b\r\n{WS}\r\n"))
for name, headers in {"h2c": "Upgrade: h2c\r\nConnection: Upgrade, HTTP2-Settings\r\nHTTP2-Settings: AAMAAABkAAQAAP__",
                      "h2c no connection": "Upgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAAP__"}.items():  # fmt: skip
    CORPUS.append(forward(f"upgrade {name}", f"GET /echo/{{m}} HTTP/1.1\r\nHost: t\r\n{headers}\r\nConnection: close\r\n\r\n",
                          absent("upgrade", "http2-settings")))  # fmt: skip

# Headers that must never reach Streamlit as sent.
OVERRIDES = ["X-Original-URL", "X-Rewrite-URL", "X-Forwarded-Server", "X-Forwarded-Scheme", "X-Forwarded-Port", "X-Forwarded-Prefix",
             "True-Client-IP", "X-Client-IP", "X-Cluster-Client-IP", "CF-Connecting-IP", "Fastly-Client-IP", "X-Original-Forwarded-For"]  # fmt: skip
for name in OVERRIDES:
    CORPUS.append(forward(f"override {name}", get("/echo/{m}", f"{name}: /admin"), absent(name.lower())))
for name in ["Content_Length: 5", "Transfer_Encoding: chunked", "X_Forwarded_For: 6.6.6.6", "X_Real_IP: 6.6.6.6", "Host_: evil", "X_Request_ID: x"]:
    CORPUS.append(forward(f"underscore {name.split(':')[0]}", get("/echo/{m}", name), lambda h, _: not [n for n in h if "_" in n]))
SPOOFS = {"X-Forwarded-For": "x-forwarded-for", "X-Forwarded-Host": "x-forwarded-host", "X-Forwarded-Proto": "x-forwarded-proto",
          "Forwarded": "forwarded", "X-Real-IP": "x-real-ip", "X-Scheme": "x-scheme"}  # fmt: skip
EXPECTED = {"x-forwarded-for": ["127.0.0.1"], "x-forwarded-host": ["t"], "x-forwarded-proto": ["http"]}
for sent, lowered in SPOOFS.items():
    CORPUS.append(forward(f"spoofed {sent}", get("/echo/{m}", f"{sent}: https://evil, 6.6.6.6"),
                          lambda h, _, n=lowered: h.get(n, []) == EXPECTED.get(n, [])))  # fmt: skip
for credential in ["Authorization: Bearer x", "Proxy-Authorization: Basic eA==", "X-Api-Key: k", "X-Auth-Token: t", "Proxy-Foo: 1"]:
    CORPUS.append(forward(f"credential {credential.split(':')[0]}", get("/echo/{m}", credential), absent(credential.split(":")[0].lower())))
for token in ["X-Forwarded-For", "X-Request-ID", "Host", "Cookie", "X-Forwarded-Proto"]:
    # Naming a header in Connection must not strip what the gateway itself sets.
    CORPUS.append(forward(f"connection names {token}", f"GET /echo/{{m}} HTTP/1.1\r\nHost: t\r\nConnection: close, {token}\r\n\r\n",
                          lambda h, _: h.get("host") == ["t"] and h.get("x-forwarded-for") == ["127.0.0.1"] and len(h.get("x-request-id", [])) == 1))  # fmt: skip
CORPUS.append(refuse("header value not utf-8", get("/echo/{m}", "X-Request-ID: caf\u00e9")))  # sent as Latin-1
for value in ["%0d%0aX-Injected: 1", "x" * 129, "../../etc", "id with space", "<script>"]:
    # Not a valid request id: replaced by a minted one (32 hex digits), never echoed into a header or log line.
    CORPUS.append(forward(f"request id {value[:12]!r}", get("/echo/{m}", f"X-Request-ID: {value}"),
                          lambda h, _: h.get("x-request-id", [""])[0] not in ("", "%0d%0aX-Injected: 1") and len(h["x-request-id"]) == 1
                          and len(h["x-request-id"][0]) == 32))  # fmt: skip

# Sizes.
CORPUS.append(refuse("header block over 32 KiB", get("/echo/{m}", "X-Big: " + "a" * 33_000)))
CORPUS.append(refuse("101 header fields", get("/echo/{m}", *(f"X-F{i}: 1" for i in range(100)))))
CORPUS.append(refuse("target over 32 KiB", get("/echo/{m}/" + "a" * 33_000)))
CORPUS.append(refuse("declared body over the cap", "POST /echo/{m} HTTP/1.1\r\nHost: t\r\nContent-Length: 2000000\r\n\r\n"))


def upstream_view(reply: Reply, mark: str) -> tuple[dict[str, list[str]], dict]:
    echo = reply.json()
    assert isinstance(echo, dict)
    headers: dict[str, list[str]] = {}
    for name, value in echo["headers"]:
        headers.setdefault(name.lower(), []).append(value)
    return headers, {**echo, "mark": mark}


@pytest.fixture(scope="module")
def capped(recording_upstream: str, lane: str):  # noqa: ANN201 - a fixture generator
    from tests.conftest import running_gateway

    env = {"FLUXLIT_STREAMLIT_UPSTREAM": recording_upstream, "FLUXLIT_GATEWAY_MAX_PROXY_REQUEST_BODY_BYTES": "1000000"}
    with running_gateway(env=env, lane=lane) as gateway:
        yield gateway


@pytest.mark.parametrize("case", CORPUS, ids=[case.name for case in CORPUS])
def test_hostile_request_is_refused_or_forwarded_safely(capped: Gateway, recording_upstream: str, case: Case) -> None:
    mark = new_tag()
    reply = exchange(capped, case.request.replace("{m}", mark).encode("latin-1"))
    if case.refused:
        assert 400 <= reply.status < 500 and reply.closed, (reply.status, reply.body[:200])
        assert reply.headers["x-request-id"].encode() in reply.body
        assert seen(recording_upstream, mark) == []
    else:
        assert reply.status == 200, (reply.status, reply.body[:300])
        headers, echo = upstream_view(reply, mark)
        assert case.check is not None and case.check(headers, echo), headers


def test_the_corpus_has_over_200_cases() -> None:
    assert len(CORPUS) > 200 and len({case.name for case in CORPUS}) == len(CORPUS)
