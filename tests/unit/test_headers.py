"""Header policy on the proxy hop."""

from fluxlit.gateway.headers import downstream_response_headers, upstream_request_headers

RID = b"0123456789abcdef0123456789abcdef"


def names(headers) -> list[str]:
    return [name.lower() for name, _ in headers]


def test_host_is_kept_and_forwarding_headers_come_from_the_socket() -> None:
    out = upstream_request_headers(
        [(b"host", b"example.org:8000"), (b"x-forwarded-for", b"6.6.6.6"), (b"x-real-ip", b"6.6.6.6"), (b"forwarded", b"for=6.6.6.6")],
        client_host="10.1.2.3",
        scheme="http",
        request_id=RID,
    )
    assert ("Host", "example.org:8000") in out
    assert ("X-Forwarded-For", "10.1.2.3") in out and ("X-Forwarded-Host", "example.org:8000") in out
    assert ("X-Forwarded-Proto", "http") in out and ("X-Request-ID", RID.decode()) in out
    assert "6.6.6.6" not in str(out) and "forwarded" not in names(out) and "x-real-ip" not in names(out)


def test_hop_by_hop_and_connection_named_headers_are_dropped() -> None:
    out = upstream_request_headers(
        [
            (b"Host", b"h"),
            (b"Connection", b"keep-alive, X-Secret-Hop"),
            (b"X-Secret-Hop", b"1"),
            (b"Keep-Alive", b"timeout=5"),
            (b"TE", b"trailers"),
            (b"Transfer-Encoding", b"chunked"),
            (b"Upgrade", b"h2c"),
            (b"HTTP2-Settings", b"AAA"),
            (b"Proxy-Authorization", b"Basic x"),
            (b"Accept", b"*/*"),
        ],
        client_host=None,
        scheme="https",
        request_id=RID,
    )
    assert names(out) == ["host", "accept", "x-forwarded-proto", "x-forwarded-host", "x-request-id"]
    assert ("X-Forwarded-Proto", "https") in out


def test_only_one_host_and_no_client_request_id_reach_upstream() -> None:
    out = upstream_request_headers(
        [(b"host", b"a"), (b"host", b"b"), (b"x-request-id", b"spoof")], client_host="1.1.1.1", scheme="http", request_id=RID
    )
    assert names(out).count("host") == 1 and ("Host", "a") in out
    assert [v for n, v in out if n.lower() == "x-request-id"] == [RID.decode()]


def test_websocket_handshake_headers_are_left_to_the_upstream_client() -> None:
    out = upstream_request_headers(
        [(b"host", b"h"), (b"sec-websocket-key", b"k"), (b"sec-websocket-protocol", b"streamlit"), (b"origin", b"http://h"), (b"cookie", b"c=1")],
        client_host="1.1.1.1",
        scheme="ws",
        request_id=RID,
        websocket=True,
    )
    assert "sec-websocket-key" not in names(out) and "sec-websocket-protocol" not in names(out)
    assert ("origin", "http://h") in out and ("cookie", "c=1") in out


def test_non_utf8_header_value_is_carried_not_failed() -> None:
    out = upstream_request_headers([(b"host", b"h"), (b"x-name", b"caf\xe9")], client_host=None, scheme="http", request_id=RID)
    assert ("x-name", "café") in out


def test_response_filter_drops_hop_by_hop_and_sets_the_request_id() -> None:
    out = downstream_response_headers(
        [
            (b"Content-Type", b"text/html"),
            (b"Connection", b"close, X-Hop"),
            (b"X-Hop", b"1"),
            (b"Transfer-Encoding", b"chunked"),
            (b"Server", b"upstream"),
            (b"Date", b"x"),
            (b"X-Request-ID", b"other"),
            (b"Set-Cookie", b"a=1"),
            (b"Set-Cookie", b"b=2"),
        ],
        request_id=RID,
    )
    assert out == [(b"content-type", b"text/html"), (b"set-cookie", b"a=1"), (b"set-cookie", b"b=2"), (b"x-request-id", RID)]
