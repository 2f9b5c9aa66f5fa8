"""asv micro-benchmarks: each kernel on realistic input, compiled twin vs pure twin."""

import os

from fluxlit._speedups import load_twin

IMPLEMENTATIONS = ["pure", "compiled"]


def _ws_stream(payload_size: int, count: int) -> list[bytes]:
    from websockets.frames import Frame, Opcode

    data = b"".join(Frame(Opcode.BINARY, os.urandom(payload_size)).serialize(mask=True, extensions=[]) for _ in range(count))
    # Socket reads arrive in 64 KiB pieces; cut once here so the benchmark times the kernel only.
    return [data[i : i + 65536] for i in range(0, len(data), 65536)]


class RequestId:
    """Validating a client's X-Request-ID and minting new ones."""

    params = IMPLEMENTATIONS
    param_names = ["implementation"]

    def setup(self, implementation: str) -> None:
        self.kernel = load_twin("request_id", implementation)

    def time_keep_valid_incoming(self, implementation: str) -> None:
        self.kernel.request_id_for(b"7f3c2a9e-1b4d-4e8f-9a6b-2c5d8e1f0a3b")

    def time_replace_invalid_incoming(self, implementation: str) -> None:
        self.kernel.request_id_for(b"bad id\r\nx")

    def time_mint(self, implementation: str) -> None:
        self.kernel.mint_request_id()


class BodyLimit:
    """Counting a 64 KiB chunked body arriving in 4 KiB pieces against the default cap."""

    params = IMPLEMENTATIONS
    param_names = ["implementation"]

    def setup(self, implementation: str) -> None:
        self.kernel = load_twin("body_limit", implementation)

    def time_64k_body_in_4k_pieces(self, implementation: str) -> None:
        limit = self.kernel.BodyLimit(200 * 1024 * 1024)
        for _ in range(16):
            limit.feed(4096)


class WebSocketFrames:
    """Inspecting a stream of masked client frames (64-byte chat-sized and 64 KiB bulk)."""

    params = (IMPLEMENTATIONS, [64, 65536])
    param_names = ["implementation", "payload"]

    def setup(self, implementation: str, payload: int) -> None:
        self.kernel = load_twin("ws_frames", implementation)
        self.chunks = _ws_stream(payload, 1000 if payload == 64 else 64)

    def time_inspect_stream(self, implementation: str, payload: int) -> None:
        inspector = self.kernel.FrameInspector(masked=True, max_message=200 * 1024 * 1024)
        for chunk in self.chunks:
            inspector.feed(chunk)


BROWSER_REQUEST = [
    (b"host", b"apps.example.com"),
    (b"connection", b"keep-alive"),
    (b"cache-control", b"max-age=0"),
    (b"sec-ch-ua", b'"Chromium";v="156", "Not)A;Brand";v="24"'),
    (b"sec-ch-ua-mobile", b"?0"),
    (b"sec-ch-ua-platform", b'"Linux"'),
    (b"upgrade-insecure-requests", b"1"),
    (b"user-agent", b"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36"),
    (b"accept", b"text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"),
    (b"sec-fetch-site", b"none"),
    (b"sec-fetch-mode", b"navigate"),
    (b"sec-fetch-dest", b"document"),
    (b"accept-encoding", b"gzip, deflate, br, zstd"),
    (b"accept-language", b"en-US,en;q=0.9"),
    (b"cookie", b"_streamlit_xsrf=2|abcdef|0123456789abcdef|1795879159; theme=dark"),
]
UPSTREAM_RESPONSE = tuple([
    (b"Content-Type", b"text/html"),
    (b"Content-Length", b"7863"),
    (b"Etag", b'"65518e61f2288bf0ec6eef3dea0cea86"'),
    (b"Cache-Control", b"no-cache"),
    (b"Date", b"Sat, 28 Nov 2026 15:19:18 GMT"),
    (b"Server", b"uvicorn"),
    (b"Set-Cookie", b"_streamlit_xsrf=2|abc; Path=/; SameSite=Lax"),
])  # aiohttp's raw_headers is a tuple of pairs
SPLICED_RESPONSE_HEAD = b"HTTP/1.1 200 OK\r\n" + b"".join(
    name + b": " + value + b"\r\n" for name, value in [*UPSTREAM_RESPONSE, (b"Vary", b"Accept-Encoding")]
) + b"\r\n"  # the splice lane reads the upstream's head as raw bytes
REQUEST_ID = b"0123456789abcdef0123456789abcdef"
DATE_LINE = b"date: Sat, 28 Nov 2026 15:19:18 GMT\r\n"


class HeaderPolicy:
    """A 15-header browser request to Streamlit, and the response coming back (as header lists and as heads)."""

    params = IMPLEMENTATIONS
    param_names = ["implementation"]

    def setup(self, implementation: str) -> None:
        self.kernel = load_twin("headers", implementation)

    def time_validate_head(self, implementation: str) -> None:
        self.kernel.head_problem(b"/static/js/index.js", BROWSER_REQUEST, "1.1", 32768, 100)

    def time_upstream_request_headers(self, implementation: str) -> None:
        self.kernel.upstream_request_headers(BROWSER_REQUEST, "203.0.113.9", "https", REQUEST_ID, False, False, None)

    def time_downstream_response_headers(self, implementation: str) -> None:
        self.kernel.downstream_response_headers(UPSTREAM_RESPONSE, REQUEST_ID)

    def time_upstream_head(self, implementation: str) -> None:
        self.kernel.upstream_head(
            b"GET", b"/static/js/index.js", BROWSER_REQUEST, "203.0.113.9", "https", False, False, None, b"127.0.0.1:8501"
        )

    def time_downstream_head(self, implementation: str) -> None:
        self.kernel.downstream_head(SPLICED_RESPONSE_HEAD, REQUEST_ID, DATE_LINE, True, True, False)
