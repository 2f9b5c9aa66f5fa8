"""The fast lane and the ASGI lane answer every request alike and forward the same thing upstream.

Hypothesis writes HTTP/1.1 requests as raw bytes, valid ones and hostile ones, and each goes over a
fresh socket to two ``fluxlit run`` gateways started once for the module (``--lane fast`` and
``--lane asgi``) in front of one capturing upstream (see support/capture_upstream.py). For each lane
we keep what the client saw (every response, bytes that were not a response, how the connection
ended) and every request that reached the upstream whole; the two must be equal once the few
legitimate differences are normalised, each where it is done: the tag, minted request ids, Date,
the order and case of header fields, aiohttp's Content-Length: 0 on a bodiless POST/PUT/DELETE, and
the framing of a chunked body (the upstream compares de-chunked bytes).

The request's target carries ``{tag}``, replaced by a fresh tag per lane, so the upstream's records
of each lane can be read back apart.
"""

import contextlib
import json
import re
import socket
import string
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field

import httptools
import httpx
import pytest
from hypothesis import assume, event, example, given, settings
from hypothesis import strategies as st

from tests.conftest import Gateway, running_gateway
from tests.support.processes import ROOT, Proc, free_port

pytestmark = pytest.mark.integration

CAPTURE_UPSTREAM = ROOT / "tests" / "support" / "capture_upstream.py"
BODY_CAP = 64
MAX_HEADER_BYTES = 2048
MAX_HEADER_COUNT = 24
DEADLINE_S = 1.0
IO_TIMEOUT_S = 3.0
SETTLE_S = 2.0
TAG = b"{tag}"
PROBE_ID = "lane-equivalence-probe"
PROBE = b"GET /captured/%s HTTP/1.1\r\nHost: probe\r\nX-Request-ID: %s\r\n\r\n" % (b"0" * 32, PROBE_ID.encode())
"""Sent once the answer to a kept-alive request is in: its answer proves the connection still serves."""
HEX32 = re.compile(r"(?<![0-9a-f])[0-9a-f]{32}(?![0-9a-f])")


@dataclass(frozen=True)
class Lanes:
    """Both gateways and the upstream they share."""

    fast: Gateway
    asgi: Gateway
    upstream: str
    client: httpx.Client


@pytest.fixture(scope="module")
def lanes() -> Iterator[Lanes]:
    """A capturing upstream and one ``fluxlit run`` per lane in front of it: small body cap, small head limits, 1 s deadlines."""
    port = free_port()
    upstream = Proc([sys.executable, str(CAPTURE_UPSTREAM), str(port)], cwd=ROOT)
    url = f"http://127.0.0.1:{port}"
    env = {
        "FLUXLIT_STREAMLIT_UPSTREAM": url,
        "FLUXLIT_GATEWAY_MAX_PROXY_REQUEST_BODY_BYTES": str(BODY_CAP),
        "FLUXLIT_GATEWAY_MAX_HEADER_BYTES": str(MAX_HEADER_BYTES),
        "FLUXLIT_GATEWAY_MAX_HEADER_COUNT": str(MAX_HEADER_COUNT),
        "FLUXLIT_GATEWAY_HEADER_READ_TIMEOUT_S": str(DEADLINE_S),
        "FLUXLIT_GATEWAY_BODY_READ_TIMEOUT_S": str(DEADLINE_S),
        # A request the upstream never finishes answering (CONNECT) must not hold up the module's teardown.
        "FLUXLIT_UVICORN_GRACEFUL_SHUTDOWN_TIMEOUT_S": "2",
    }
    try:
        upstream.wait_http(url + "/", timeout=30)
        with running_gateway(env=env, lane="fast") as fast, running_gateway(env=env, lane="asgi") as asgi, httpx.Client() as client:
            yield Lanes(fast, asgi, url, client)
    finally:
        upstream.stop()


# -- requests ---------------------------------------------------------------------------------------


@dataclass
class Draft:
    """A request under construction; hostile mutations change its parts before it is rendered."""

    method: bytes
    target: bytes
    version: bytes
    headers: list[tuple[bytes, bytes]]
    body: bytes = b""
    after: bytes = b""
    request_line_gaps: tuple[bytes, bytes, bytes, bytes] = (b"", b" ", b" ", b"")
    bare_lf: list[int] = field(default_factory=list)
    """Line endings (by index, the blank line last) written as a bare LF."""

    def render(self) -> bytes:
        lead, gap1, gap2, trail = self.request_line_gaps
        lines = [lead + self.method + gap1 + self.target + gap2 + self.version + trail]
        lines += [name + b": " + value for name, value in self.headers]
        lines.append(b"")
        ends = [b"\n" if i in self.bare_lf else b"\r\n" for i in range(len(lines))]
        return b"".join(line + end for line, end in zip(lines, ends)) + self.body + self.after


TCHAR = string.ascii_letters + string.digits + "!#$%&'*+-.^_`|~"
PCHAR = string.ascii_letters + string.digits + "-._~!$&'()*+,;=:@"
REQUEST_ID_CHARS = string.ascii_letters + string.digits + "._:-"
METHODS = [b"GET", b"HEAD", b"POST", b"PUT", b"DELETE", b"OPTIONS"]
GOOD_HOSTS = [b"t", b"example.com", b"example.com:8080", b"127.0.0.1", b"127.0.0.1:8501", b"[::1]", b"[::1]:8501", b"xn--bcher-kva.example"]
BAD_HOSTS = [b"", b"a b", b"t/x", b"user@t", b"t:0", b"t:65536", b"t:abc", b"t:", b"[::1", b"[zz]", b"[::1]x", b"t:80:90", b"a_b", b"\xc3\xa9.example"]

percent = st.integers(1, 255).flatmap(lambda b: st.sampled_from([b"%%%02X" % b, b"%%%02x" % b]))
segment = st.lists(st.one_of(st.sampled_from(PCHAR).map(str.encode), percent), max_size=6).map(b"".join)
query = st.lists(st.one_of(st.sampled_from(PCHAR + "/?").map(str.encode), percent), max_size=12).map(b"".join)


@st.composite
def targets(draw: st.DrawFn) -> bytes:
    """``/t/{tag}`` and odd but legal segments, sometimes a query."""
    path = b"/t/" + TAG + b"".join(b"/" + s for s in draw(st.lists(segment, max_size=3)))
    return path + b"?" + draw(query) if draw(st.booleans()) else path


ascii_value = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=24).map(str.encode)
utf8_value = st.text(st.characters(min_codepoint=0xA0, exclude_categories=["Cs"]), min_size=1, max_size=6).map(str.encode)
latin1_value = st.binary(min_size=1, max_size=6).map(lambda raw: bytes(byte | 0x80 for byte in raw))
values = st.lists(st.one_of(ascii_value, utf8_value, latin1_value), max_size=3).map(b"".join).map(bytes.strip)
request_ids = st.one_of(
    st.text(st.sampled_from(REQUEST_ID_CHARS), min_size=1, max_size=40).map(str.encode),
    st.just(b"r" * 129),
    st.sampled_from([b"has space", b"a/b", b"caf\xc3\xa9", b"<x>"]),
)
connection_tokens = st.lists(
    st.sampled_from([b"keep-alive", b"close", b"X-Drop", b"te", b"Upgrade", b"x-request-id", b"host", b"cookie", b"content-length",
                     b"transfer-encoding", b"x-forwarded-for", b"HTTP2-Settings", b"expect"]),  # fmt: skip
    min_size=1,
    max_size=3,
).map(b", ".join)
special_headers = st.one_of(
    st.tuples(st.sampled_from([b"X-Forwarded-For", b"X-Real-IP", b"True-Client-IP"]), st.sampled_from([b"1.2.3.4", b"1.2.3.4, 10.0.0.1", b"unknown", b""])),
    st.tuples(st.sampled_from([b"X-Forwarded-Proto", b"X-Scheme", b"X-Forwarded-Scheme"]), st.sampled_from([b"https", b"http", b"ftp", b"https, http"])),
    st.tuples(st.sampled_from([b"X-Forwarded-Host", b"X-Forwarded-Server"]), st.sampled_from([b"evil.example", b"evil.example:1"])),
    st.tuples(st.sampled_from([b"X-Forwarded-Port", b"X-Forwarded-Prefix"]), st.sampled_from([b"443", b"/prefix"])),
    st.tuples(st.just(b"Forwarded"), st.just(b"for=1.2.3.4;proto=https;host=evil.example")),
    st.tuples(st.just(b"X-Request-ID"), request_ids),
    st.tuples(st.just(b"Connection"), connection_tokens),
    st.tuples(st.just(b"Expect"), st.sampled_from([b"100-continue", b"100-Continue", b"200-ok"])),
    st.tuples(st.sampled_from([b"TE", b"Keep-Alive", b"Proxy-Connection", b"Trailer", b"Upgrade", b"HTTP2-Settings"]),
              st.sampled_from([b"trailers", b"timeout=5", b"keep-alive", b"X-T", b"h2c", b"AAMAAABkAAQAAP__"])),  # fmt: skip
    st.tuples(st.sampled_from([b"User-Agent", b"Accept", b"Accept-Encoding", b"Content-Type", b"Origin", b"Range", b"If-None-Match"]), values),
    st.tuples(st.sampled_from([b"Cookie", b"Authorization", b"X-Api-Key", b"Proxy-Authorization"]), st.sampled_from([b"a=1; b=2", b"Bearer x"])),
    st.tuples(st.sampled_from([b"X-Original-URL", b"X-Rewrite-URL", b"X-Client-IP", b"CF-Connecting-IP"]), st.sampled_from([b"/admin", b"1.2.3.4"])),
)
header_names = st.one_of(st.text(st.sampled_from(TCHAR), min_size=1, max_size=12).map(str.encode), st.sampled_from([b"X-A", b"x-a", b"X-B"]))
recased = st.sampled_from([bytes.lower, bytes.upper, bytes.title, bytes])
headers = st.lists(
    st.one_of(st.tuples(header_names, values), st.tuples(special_headers, recased).map(lambda pair: (pair[1](pair[0][0]), pair[0][1]))),
    max_size=8,
)
chunk_extensions = st.sampled_from([b"", b";a", b";a=b", b';a="q s"', b";a=b;c"])
trailers = st.lists(st.sampled_from([b"X-Trailer: 1\r\n", b"X-Forwarded-For: 6.6.6.6\r\n", b"Content-Length: 5\r\n"]), max_size=2).map(b"".join)


@st.composite
def chunked(draw: st.DrawFn, data: bytes) -> bytes:
    """``data`` as chunks of drawn sizes, with extensions, upper- or lower-case sizes and maybe trailers."""
    out = []
    while data:
        size = draw(st.integers(1, len(data)))
        size_text = draw(st.sampled_from([b"%x", b"%X", b"0%x"])) % size
        out.append(size_text + draw(chunk_extensions) + b"\r\n" + data[:size] + b"\r\n")
        data = data[size:]
    out.append(b"0" + draw(chunk_extensions) + b"\r\n" + draw(trailers) + b"\r\n")
    return b"".join(out)


@st.composite
def valid_drafts(draw: st.DrawFn) -> Draft:
    """A well-formed request: any of the methods, odd targets, extra headers, maybe a body (Content-Length or chunked)."""
    version = draw(st.sampled_from([b"HTTP/1.1", b"HTTP/1.1", b"HTTP/1.1", b"HTTP/1.0"]))
    extra = draw(headers)
    host = [] if version == b"HTTP/1.0" and draw(st.booleans()) else [(b"Host", draw(st.sampled_from(GOOD_HOSTS)))]
    draft = Draft(draw(st.sampled_from(METHODS)), draw(targets()), version, host + extra)
    framing = draw(st.sampled_from(["length", "chunked", "none"]))
    data = draw(st.one_of(st.binary(min_size=BODY_CAP - 8, max_size=BODY_CAP + 24), st.binary(max_size=16)))  # around the cap, or small
    if framing == "length":
        draft.headers.insert(draw(st.integers(0, len(draft.headers))), (b"Content-Length", b"%d" % len(data)))
        draft.body = data
    elif framing == "chunked" and version == b"HTTP/1.1":
        draft.headers.insert(draw(st.integers(0, len(draft.headers))), (b"Transfer-Encoding", b"chunked"))
        draft.body = draw(chunked(data))
    return draft


# Hostile mutations: each takes the draw function and the draft, and makes the request suspect.


def hostile_target(draw: st.DrawFn, draft: Draft) -> None:
    """Dot-segments raw or encoded, %00, backslashes, leading //, fragments, absolute and asterisk forms."""
    draft.target = draw(st.sampled_from([
        b"/t/{tag}/../x", b"/t/{tag}/./x", b"/t/{tag}/..", b"/t/{tag}/%2e%2e/x", b"/t/{tag}/%2E./x", b"/t/{tag}/.%2e", b"/t/{tag}/..%2fx",
        b"/t/{tag}/%2e%2e%5cx", b"/t/{tag}/..;/x", b"/t/{tag}/a%00b", b"/t/{tag}\\x", b"/t/{tag}/%5c..%5cx", b"//t/{tag}", b"///t/{tag}",
        b"/t/{tag}/%252e%252e/x", b"/t/{tag}?a=../b", b"/t/{tag}#/../x", b"/t/{tag}#frag", b"/t/{tag}/%zz", b"/t/{tag}/%",
        b"t/{tag}", b"http://t/t/{tag}", b"http://evil.example/t/{tag}?q=1", b"HTTP://t/t/{tag}/../x", b"*",
    ]))  # fmt: skip
    if draft.target == b"*":
        draft.headers.append((b"X-Tag", TAG))  # the upstream files a request without the tag in its target by this


def hostile_host(draw: st.DrawFn, draft: Draft) -> None:
    """No Host, two of them, or one that is not host[:port]."""
    kept = [(name, value) for name, value in draft.headers if name.lower() != b"host"]
    hosts = draw(st.sampled_from([[], [b"t", b"t"], [b"t", b"other"]]) | st.sampled_from(BAD_HOSTS).map(lambda host: [host]))
    draft.headers = [(b"Host", host) for host in hosts] + kept


def conflicting_framing(draw: st.DrawFn, draft: Draft) -> None:
    """Content-Length with Transfer-Encoding, two lengths, odd lengths, codings other than chunked."""
    fields = draw(st.sampled_from([
        [(b"Content-Length", b"3"), (b"Transfer-Encoding", b"chunked")],
        [(b"Transfer-Encoding", b"chunked"), (b"Content-Length", b"3")],
        [(b"Content-Length", b"3"), (b"Content-Length", b"3")],
        [(b"Content-Length", b"3"), (b"Content-Length", b"4")],
        [(b"Content-Length", b"3, 3")], [(b"Content-Length", b"+3")], [(b"Content-Length", b"-1")], [(b"Content-Length", b"0x3")],
        [(b"Content-Length", b"99999999999999999999999")],
        [(b"Transfer-Encoding", b"gzip, chunked")], [(b"Transfer-Encoding", b"chunked, chunked")], [(b"Transfer-Encoding", b"identity")],
        [(b"Transfer-Encoding", b"chunked"), (b"Transfer-Encoding", b"identity")], [(b"Transfer-Encoding", b" chunked")],
        [(b"Transfer-Encoding", b"Chunked")], [(b"Transfer-Encoding", b"\x0bchunked")],
    ]))  # fmt: skip
    draft.headers = [(n, v) for n, v in draft.headers if n.lower() not in (b"content-length", b"transfer-encoding")] + fields
    draft.body = b"3\r\nabc\r\n0\r\n\r\n" if any(n == b"Transfer-Encoding" for n, _ in fields) else b"abc"


def http10_chunked(draw: st.DrawFn, draft: Draft) -> None:
    """Transfer-Encoding on an HTTP/1.0 request."""
    draft.version = b"HTTP/1.0"
    draft.headers = [(n, v) for n, v in draft.headers if n.lower() not in (b"content-length", b"transfer-encoding")]
    draft.headers.append((b"Transfer-Encoding", b"chunked"))
    draft.body = b"5\r\nhello\r\n0\r\n\r\n"


def websocket_over_http10(draw: st.DrawFn, draft: Draft) -> None:
    """A WebSocket handshake over HTTP/1.0."""
    draft.method, draft.version = b"GET", b"HTTP/1.0"
    draft.headers += [(b"Upgrade", b"websocket"), (b"Connection", b"Upgrade"), (b"Sec-WebSocket-Key", b"dGhlIHNhbXBsZSBub25jZQ=="),
                      (b"Sec-WebSocket-Version", b"13")]  # fmt: skip


def folded_or_broken_field(draw: st.DrawFn, draft: Draft) -> None:
    """An obs-fold, a control byte or bare CR in a value, or a name that is not a token."""
    bad = draw(st.sampled_from([
        (b"X-Fold", b"a\r\n b"), (b"X-Fold", b"a\r\n\tb"), (b"X-Ctl", b"a\x00b"), (b"X-Ctl", b"a\x01b"), (b"X-Ctl", b"a\x7fb"),
        (b"X-Ctl", b"a\rb"), (b"X Bad", b"1"), (b"X-Bad ", b"1"), (b"", b"empty name"), (b"X-\xc3\xa9", b"1"), (b"X(Bad)", b"1"),
    ]))  # fmt: skip
    draft.headers.insert(draw(st.integers(0, len(draft.headers))), bad)


def bare_line_feeds(draw: st.DrawFn, draft: Draft) -> None:
    """Some head lines ended by LF alone."""
    draft.bare_lf = draw(st.lists(st.integers(0, len(draft.headers) + 1), min_size=1, max_size=3))


def underscore_names(draw: st.DrawFn, draft: Draft) -> None:
    """Names with underscores, some that a back end could read as framing or forwarding fields."""
    names = st.sampled_from([b"X_Custom", b"Content_Length", b"X_Forwarded_For", b"Transfer_Encoding", b"X_Request_ID", b"Host_"])
    draft.headers += draw(st.lists(st.tuples(names, st.sampled_from([b"1", b"99", b"6.6.6.6", b"chunked"])), min_size=1, max_size=3))


def oversized_head(draw: st.DrawFn, draft: Draft) -> None:
    """A head around the byte limit or the field-count limit."""
    if draw(st.booleans()):
        draft.headers.append((b"X-Big", b"a" * draw(st.integers(MAX_HEADER_BYTES - 200, MAX_HEADER_BYTES + 300))))
    else:
        draft.headers += [(b"X-F%d" % i, b"1") for i in range(draw(st.integers(MAX_HEADER_COUNT - 4, MAX_HEADER_COUNT + 8)))]


def garbage_after(draw: st.DrawFn, draft: Draft) -> None:
    """Bytes that are not a request after the request, in the same packet."""
    draft.after = draw(st.one_of(
        st.sampled_from([b"\x16\x03\x01\x00\xa5\x01", b"HTTP/1.1 200 OK\r\n\r\n", b"GET\r\n\r\n", b"\x00\x00\x00\x00", b" / HTTP/1.1\r\n\r\n",
                         b"G\x01T / HTTP/1.1\r\n\r\n", b"NOT HTTP AT ALL\r\n\r\n", b"GET /t/{tag} HTTP/1.1\r\nHost: t\r\n\r\n"]),
        st.binary(min_size=1, max_size=16),
    ))  # fmt: skip


def pipelined_request(draw: st.DrawFn, draft: Draft) -> None:
    """A second request in the same packet."""
    draft.after = draw(valid_drafts()).render()


def odd_request_line(draw: st.DrawFn, draft: Draft) -> None:
    """Extra or other whitespace in the request line, another version, an odd method."""
    gaps = draw(st.sampled_from([
        (b"", b"  ", b" ", b""), (b"", b" ", b"  ", b""), (b"", b" ", b" ", b" "), (b" ", b" ", b" ", b""), (b"", b"\t", b" ", b""),
        (b"", b" ", b"\t", b""), (b"\r\n", b" ", b" ", b""),
    ]))  # fmt: skip
    draft.request_line_gaps = gaps
    if draw(st.booleans()):
        draft.version = draw(st.sampled_from([b"HTTP/1.2", b"HTTP/2.0", b"HTTP/0.9", b"HTTP/1.10", b"http/1.1", b"HTTP/1", b"HTTP/1.1x"]))
    if draw(st.booleans()):
        draft.method = draw(st.sampled_from([b"get", b"FOO", b"TRACE", b"PATCH", b"PROPFIND", b"M-SEARCH", b"CONNECT", b"GE T"]))


MUTATIONS = [hostile_target, hostile_host, conflicting_framing, http10_chunked, websocket_over_http10, folded_or_broken_field,
             bare_line_feeds, underscore_names, oversized_head, garbage_after, pipelined_request, odd_request_line]  # fmt: skip


@st.composite
def raw_requests(draw: st.DrawFn) -> bytes:
    """A valid request, or one with up to two hostile mutations, rendered as bytes with ``{tag}`` in its target."""
    draft = draw(valid_drafts())
    for mutate in draw(st.lists(st.sampled_from(MUTATIONS), max_size=2, unique=True)):
        mutate(draw, draft)
    return draft.render()


# -- one lane's view of one request ----------------------------------------------------------------


@dataclass(frozen=True)
class Response:
    """One response as the client read it: status, header fields (names lower-case) and body."""

    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes

    def header(self, name: str) -> str | None:
        return next((value for field_name, value in self.headers if field_name == name), None)


class NotAResponse(Exception):
    """The bytes at the front of the stream are not an HTTP/1.x response."""


def _split_response(data: bytes, bodiless: bool, at_eof: bool) -> tuple[Response, bytes] | None:
    """The first response in ``data`` and what follows it, or ``None`` when more bytes are needed."""
    end = data.find(b"\r\n\r\n")
    if end < 0:
        if not data.startswith(b"HTTP/1."[: len(data)]) or at_eof:
            raise NotAResponse
        return None
    lines = data[:end].split(b"\r\n")
    status_line = re.fullmatch(rb"HTTP/1\.[01] (\d{3})( .*)?", lines[0])
    if status_line is None or any(b":" not in line for line in lines[1:]):
        raise NotAResponse
    fields = tuple((n.strip().lower().decode("latin-1"), v.strip().decode("latin-1")) for n, _, v in (line.partition(b":") for line in lines[1:]))
    response = Response(int(status_line.group(1)), fields, b"")
    rest = data[end + 4 :]
    if bodiless or response.status < 200 or response.status in (204, 304):
        return response, rest
    if (response.header("transfer-encoding") or "").lower() == "chunked":
        return _dechunk(response, rest)
    if (length := response.header("content-length")) is not None:
        return (Response(response.status, fields, rest[: int(length)]), rest[int(length) :]) if len(rest) >= int(length) else None
    return (Response(response.status, fields, rest), b"") if at_eof else None  # delimited by the close


def _dechunk(response: Response, data: bytes) -> tuple[Response, bytes] | None:
    body, position = b"", 0
    while (line_end := data.find(b"\r\n", position)) >= 0:
        try:
            size = int(data[position:line_end].split(b";")[0], 16)
        except ValueError:
            raise NotAResponse from None
        if size == 0:
            trailer_end = data.find(b"\r\n\r\n", line_end) if data[line_end : line_end + 4] != b"\r\n\r\n" else line_end
            if trailer_end < 0:
                return None
            return Response(response.status, response.headers, body), data[trailer_end + 4 :]
        if len(data) < line_end + 2 + size + 2:
            return None
        body += data[line_end + 2 : line_end + 2 + size]
        position = line_end + 2 + size + 2
    return None


@dataclass(frozen=True)
class ClientView:
    """What the client saw: the responses, any bytes that were not a response, and how the connection ended."""

    responses: tuple[Response, ...]
    stray_bytes: bytes
    ending: str
    """``kept open`` (the probe was answered), ``closed`` (FIN or reset) or ``timed out``."""


def request_methods(request: bytes) -> list[bytes]:
    """The methods of the requests an HTTP/1.1 parser finds in ``request``, in order, up to any error."""
    methods: list[bytes] = []

    class Heads:
        def on_headers_complete(self) -> None:
            methods.append(parser.get_method())

    parser = httptools.HttpRequestParser(Heads())
    with contextlib.suppress(httptools.HttpParserError, httptools.HttpParserUpgrade):
        parser.feed_data(request)
    return methods


class ResponseStream:
    """Responses taken off the front of what a gateway sends; an answer to ``HEAD`` has no body."""

    def __init__(self, methods: list[bytes]) -> None:
        self.methods = methods
        self.data = b""
        self.finals = 0
        self.broken = False

    def next(self, *, at_eof: bool = False) -> Response | None:
        """The next complete response, or ``None`` when more bytes are needed or they are not a response."""
        if self.broken or not self.data:
            return None
        bodiless = self.finals < len(self.methods) and self.methods[self.finals] == b"HEAD"
        try:
            split = _split_response(self.data, bodiless, at_eof)
        except NotAResponse:
            self.broken = True
            return None
        if split is None:
            return None
        response, self.data = split
        self.finals += response.status >= 200
        return response


def converse(gateway: Gateway, request: bytes) -> ClientView:
    """Send ``request`` on a fresh connection; read every response and how the connection ends.

    Once a final answer is in and the connection is meant to stay open, a probe request is sent:
    its answer shows the connection still serves, and that nothing else was due before it.
    """
    stream = ResponseStream(request_methods(request))
    responses: list[Response] = []
    probed = False
    with socket.create_connection(("127.0.0.1", gateway.port), timeout=IO_TIMEOUT_S) as sock:
        _send(sock, request)
        while True:
            while (response := stream.next()) is not None:
                if response.header("x-request-id") == PROBE_ID:
                    return ClientView(tuple(responses), stream.data, "kept open")
                responses.append(response)
                if response.status >= 200 and not probed and (response.header("connection") or "").lower() != "close":
                    probed = True
                    if not _send(sock, PROBE):
                        return ClientView(tuple(responses), stream.data, "closed")
            try:
                chunk = sock.recv(65536)
            except ConnectionResetError:
                # A reset rather than a FIN only says whether request bytes were still unread when the gateway closed.
                chunk = b""
            except TimeoutError:
                return ClientView(tuple(responses), stream.data, "timed out")
            if not chunk:
                if (response := stream.next(at_eof=True)) is not None:
                    responses.append(response)
                return ClientView(tuple(responses), stream.data, "closed")
            stream.data += chunk


def _send(sock: socket.socket, data: bytes) -> bool:
    try:
        sock.sendall(data)
    except (BrokenPipeError, ConnectionResetError):
        return False
    return True


def captured(lanes: Lanes, tag: str) -> list[dict]:
    """What reached the upstream under ``tag``, once it has stopped reading the bodies."""
    deadline = time.monotonic() + SETTLE_S
    while True:
        records = lanes.client.get(f"{lanes.upstream}/captured/{tag}").json()
        if all(record["complete"] or "error" in record for record in records) or time.monotonic() > deadline:
            return records
        time.sleep(0.02)


# -- normalising and comparing ---------------------------------------------------------------------


@dataclass(frozen=True)
class LaneView:
    """One lane's handling of one request, normalised: what the client saw and what the upstream received whole."""

    client: ClientView
    forwarded: tuple[object, ...]


class Normaliser:
    """Replaces what legitimately differs between two runs of the same request: the tag and the ids the gateway mints."""

    def __init__(self, tag: str, request: bytes) -> None:
        self.tag = tag
        self.request = request

    def text(self, value: str) -> str:
        value = value.replace(self.tag, TAG.decode())
        # A minted request id is random; an id the client sent is kept literally.
        return HEX32.sub(lambda found: found.group() if found.group().encode() in self.request else "<minted id>", value)

    def stray(self, data: bytes) -> bytes:
        text = self.text(data.decode("latin-1"))
        head, blank, rest = text.partition("\r\n\r\n")
        if blank and head.startswith("HTTP/1."):
            # The head of a response whose body never came: Date is the clock's, field order carries no meaning.
            status_line, *fields = head.split("\r\n")
            text = "\r\n".join([status_line, *sorted(f for f in fields if not f.lower().startswith("date:"))]) + blank + rest
        return text.encode("latin-1")

    def record(self, record: dict) -> tuple[object, ...]:
        headers = [(name.lower(), self.text(value)) for name, value in record["headers"]]
        if record["body_size"] == 0 and ("content-length", "0") in headers:
            # aiohttp declares Content-Length: 0 on a bodiless POST/PUT/PATCH/DELETE: no body either way.
            headers.remove(("content-length", "0"))
        # Header order and name case are not part of the request (aiohttp may re-case names).
        return (record["method"], self.text(record["target"]), record["version"], tuple(sorted(headers)), record["body_size"], record["body_sha256"])

    def response(self, response: Response) -> Response:
        # The Date field is the clock's; field order carries no meaning.
        fields = tuple(sorted((name, self.text(value)) for name, value in response.headers if name != "date"))
        body = response.body
        try:
            echoed = json.loads(body) if response.header("content-type") == "application/json; charset=utf-8" else None
        except ValueError:
            echoed = None
        if isinstance(echoed, dict) and "target" in echoed:
            # The upstream's echo of what it received, compared as the records are (its length follows).
            return Response(response.status, tuple(f for f in fields if f[0] != "content-length"), repr(self.record(echoed)).encode())
        return Response(response.status, fields, self.text(body.decode("latin-1")).encode("latin-1"))


def lane_view(lanes: Lanes, gateway: Gateway, template: bytes) -> LaneView:
    """Send ``template`` (its ``{tag}`` made unique) through ``gateway``; what the client and the upstream saw, normalised."""
    tag = uuid.uuid4().hex
    request = template.replace(TAG, tag.encode())
    # Every example starts alike: the lane holds an idle upstream connection (what it does next may depend on it).
    lanes.client.get(f"{gateway.url}/captured/{'0' * 32}").raise_for_status()
    seen = converse(gateway, request)
    records = captured(lanes, tag)
    normalise = Normaliser(tag, request)
    client = ClientView(tuple(normalise.response(r) for r in seen.responses), normalise.stray(seen.stray_bytes), seen.ending)
    # A request aborted mid-body never reached the upstream whole; whether its head got out before the
    # abort is a race between the connect and the client's bytes, not a decision of either lane.
    return LaneView(client, tuple(normalise.record(record) for record in records if record["complete"]))


def differences(fast: LaneView, asgi: LaneView) -> str:
    """What differs between the two lanes' views, fast lane first."""
    parts = [
        f"{what}:\n  fast: {mine!r}\n  asgi: {theirs!r}"
        for what, mine, theirs in (
            ("responses", fast.client.responses, asgi.client.responses),
            ("bytes that were not a response", fast.client.stray_bytes, asgi.client.stray_bytes),
            ("connection", fast.client.ending, asgi.client.ending),
            ("forwarded upstream", fast.forwarded, asgi.forwarded),
        )
        if mine != theirs
    ]
    return "the lanes differ in " + "\n".join(parts)


# -- the property ----------------------------------------------------------------------------------

SINGLETONS = {b"content-length", b"content-location", b"content-range", b"content-type", b"etag", b"host", b"max-forwards", b"server",
              b"transfer-encoding", b"user-agent"}  # fmt: skip
"""Fields the stand-in upstream (aiohttp's server) refuses to see twice."""


def head_with_repeated_singleton(template: bytes) -> bool:
    """Whether a HEAD request in ``template`` repeats a field the stand-in upstream refuses to see twice."""
    for request in template.split(b"\r\n\r\n"):
        lines = request.split(b"\r\n")
        if lines[0].startswith(b"HEAD "):
            names = [line.split(b":", 1)[0].strip().lower() for line in lines[1:] if b":" in line]
            if any(names.count(name) > 1 for name in SINGLETONS):
                return True
    return False

# Divergences this test found, kept so that every run reproduces them (minimal requests); each is fixed:
# a Content-Length named in Connection was dropped while the body was still spliced (smuggling);
@example(template=b"POST /t/{tag} HTTP/1.1\r\nHost: t\r\nConnection: content-length\r\nContent-Length: 1\r\n\r\na")
# a 413 for a pipelined request went out before the response to the request ahead of it;
@example(template=b"GET /t/{tag} HTTP/1.1\r\nHost: t\r\n\r\nPOST /t/{tag} HTTP/1.1\r\nHost: t\r\nContent-Length: 65\r\n\r\n" + b"x" * 65)
# after a 413 the request pipelined behind it was still forwarded;
@example(template=b"POST /t/{tag} HTTP/1.1\r\nHost: t\r\nContent-Length: 65\r\n\r\n" + b"x" * 65 + b"GET /t/{tag} HTTP/1.1\r\nHost: t\r\n\r\n")
# a 413 in answer to HEAD carried a body;
@example(template=b"HEAD /t/{tag} HTTP/1.1\r\nHost: t\r\nContent-Length: 65\r\n\r\n")
# a malformed trailer section with Connection: close got no answer at all;
@example(template=b"POST /t/{tag} HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n0\r\nContent-Length: 5\r\n\r\n")
# 100 Continue went out before the 400 for a body malformed in the same packet;
@example(template=b"POST /t/{tag} HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n")
# with two Expect fields one lane heeded the last, the other any;
@example(template=b"POST /t/{tag} HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nExpect: x\r\nContent-Length: 1\r\n\r\na")
# a pipelined request expecting 100-continue got 100 Continue in one lane only;
@example(template=b"GET /t/{tag} HTTP/1.1\r\nHost: t\r\n\r\nPOST /t/{tag} HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\na")
# a header value that is not UTF-8 reached the upstream re-encoded in one lane (now 400 in both);
@example(template=b"GET /t/{tag} HTTP/1.1\r\nHost: t\r\nX-A: caf\xe9\r\n\r\n")
# an empty query ("?") was dropped by one lane only;
@example(template=b"GET /t/{tag}? HTTP/1.1\r\nHost: t\r\n\r\n")
# a fragment (hiding a dot-segment) was forwarded by one lane (now 400 in both);
@example(template=b"GET /t/{tag}#/../x HTTP/1.1\r\nHost: t\r\n\r\n")
# an absolute-form target went upstream with its authority in one lane, as a path in the other;
@example(template=b"GET http://evil.example/t/{tag} HTTP/1.1\r\nHost: t\r\n\r\n")
# CONNECT was proxied and never ended (now 405 in both, as TRACE).
@example(template=b"CONNECT /t/{tag} HTTP/1.1\r\nHost: t\r\nX-Tag: {tag}\r\n\r\n")
@settings(max_examples=150, deadline=None, database=None)
@given(template=raw_requests())
def test_both_lanes_answer_and_forward_every_request_alike(lanes: Lanes, template: bytes) -> None:
    # The stand-in upstream (aiohttp) answers a request with a repeated singleton field with a 400, and to
    # HEAD with a body too, which breaks HTTP: one lane relays the head, the other's client library calls
    # the upstream broken (502). Streamlit does not do this; the test does not ask it of the lanes.
    assume(not head_with_repeated_singleton(template))
    fast = lane_view(lanes, lanes.fast, template)
    asgi = lane_view(lanes, lanes.asgi, template)
    # What the examples exercised, shown with --hypothesis-show-statistics.
    event("first answer", next((str(r.status) for r in fast.client.responses if r.status >= 200), "none"))
    event("requests forwarded whole", str(len(fast.forwarded)))
    assert fast == asgi, differences(fast, asgi)
