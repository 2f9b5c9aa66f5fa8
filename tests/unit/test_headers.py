"""Header policy on the proxy hop, and what a trusted proxy tells the API."""

import pytest

import fluxlit._speedups as speedups
from fluxlit.gateway.headers import HeaderPolicy, downstream_response_headers, upstream_request_headers
from fluxlit.gateway.trust import TrustedProxies, forwarded_scope
from fluxlit.settings import FluxlitSettings
from tests.conftest import twin

RID = b"0123456789abcdef0123456789abcdef"


@pytest.fixture(autouse=True)
def header_kernel(implementation: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every policy test runs through the pure and the compiled twin of the header kernel."""
    kernel = twin("headers", implementation)
    for name in ("upstream_request_headers", "downstream_response_headers"):
        monkeypatch.setattr(speedups, name, getattr(kernel, name))


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


def policy(*, allow: list[str] | None = None, forward: list[str] | None = None) -> HeaderPolicy:
    settings = FluxlitSettings(
        trust_proxy=allow is not None,
        forwarded_allow_ips=allow or ["127.0.0.1"],
        gateway_forward_client_headers_to_streamlit=forward or [],
    )
    return HeaderPolicy.from_settings(settings)


SPOOF = [
    (b"host", b"app.example"),
    (b"x-forwarded-for", b"6.6.6.6"),
    (b"x-forwarded-proto", b"https"),
    (b"x-forwarded-host", b"evil.example"),
    (b"x-forwarded-prefix", b"/evil"),
    (b"x-forwarded-port", b"444"),
    (b"forwarded", b"for=6.6.6.6"),
    (b"x-real-ip", b"6.6.6.6"),
    (b"x-scheme", b"https"),
]


def forwarding(out) -> dict[str, list[str]]:
    seen: dict[str, list[str]] = {}
    for name, value in out:
        if name.lower().startswith(("x-forwarded", "forwarded", "x-real-ip", "x-scheme")):
            seen.setdefault(name.lower(), []).append(value)
    return seen


@pytest.mark.parametrize("trust", [None, ["10.0.0.0/8"]], ids=["trust-off", "peer-not-allowed"])
def test_untrusted_peer_forwarding_headers_are_replaced_from_the_socket(trust) -> None:
    out = upstream_request_headers(SPOOF, client_host="127.0.0.1", scheme="http", request_id=RID, policy=policy(allow=trust))
    assert forwarding(out) == {
        "x-forwarded-for": ["127.0.0.1"],
        "x-forwarded-proto": ["http"],
        "x-forwarded-host": ["app.example"],
    }


def test_trusted_peer_chain_is_appended_and_its_proto_host_prefix_kept() -> None:
    out = upstream_request_headers(
        [*SPOOF, (b"X-Forwarded-For", b"7.7.7.7 ,10.0.0.5")],
        client_host="10.1.2.3",
        scheme="http",
        request_id=RID,
        policy=policy(allow=["10.0.0.0/8"]),
    )
    assert forwarding(out) == {
        "x-forwarded-for": ["6.6.6.6, 7.7.7.7, 10.0.0.5, 10.1.2.3"],
        "x-forwarded-proto": ["https"],
        "x-forwarded-host": ["evil.example"],
        "x-forwarded-port": ["444"],
        "x-forwarded-prefix": ["/evil"],
    }


def test_trusted_peer_without_forwarding_headers_gets_socket_values() -> None:
    out = upstream_request_headers([(b"host", b"h")], client_host="127.0.0.1", scheme="https", request_id=RID, policy=policy(allow=["127.0.0.1"]))
    assert forwarding(out) == {"x-forwarded-for": ["127.0.0.1"], "x-forwarded-proto": ["https"], "x-forwarded-host": ["h"]}


def test_trusted_proto_keeps_the_first_value_and_ignores_nonsense() -> None:
    trusted = policy(allow=["*"])
    first = upstream_request_headers(
        [(b"host", b"h"), (b"x-forwarded-proto", b"https, http"), (b"x-forwarded-proto", b"http")],
        client_host="1.2.3.4", scheme="http", request_id=RID, policy=trusted,
    )  # fmt: skip
    nonsense = upstream_request_headers(
        [(b"host", b"h"), (b"x-forwarded-proto", b"gopher")], client_host="1.2.3.4", scheme="http", request_id=RID, policy=trusted
    )
    assert forwarding(first)["x-forwarded-proto"] == ["https"]
    assert forwarding(nonsense)["x-forwarded-proto"] == ["http"]


@pytest.mark.parametrize(
    ("entries", "peer", "trusted"),
    [
        (["127.0.0.1"], "127.0.0.1", True),
        (["127.0.0.1"], "127.0.0.2", False),
        (["10.0.0.0/8", "192.168.1.1"], "10.200.3.4", True),
        (["10.0.0.0/8"], "::ffff:10.0.0.1", True),
        (["fd00::/8"], "fd12::1", True),
        (["fd00::/8"], "10.0.0.1", False),
        (["127.0.0.1"], "/run/fluxlit.sock", False),
        (["127.0.0.1"], None, False),
        (["*"], "203.0.113.9", True),
        ([], "127.0.0.1", False),
    ],
)
def test_trusted_proxies_match_ips_and_cidrs(entries, peer, trusted) -> None:
    assert TrustedProxies.from_entries(entries).trusts(peer) is trusted


def test_trust_is_empty_when_trust_proxy_is_off() -> None:
    settings = FluxlitSettings(trust_proxy=False, forwarded_allow_ips=["*"])
    assert not TrustedProxies.from_settings(settings).trusts("127.0.0.1")


def test_bad_allow_entry_names_the_setting() -> None:
    with pytest.raises(ValueError, match="FLUXLIT_FORWARDED_ALLOW_IPS entry 'nope'"):
        TrustedProxies.from_entries(["nope"])


BROWSER = [
    (b"host", b"h"),
    (b"cookie", b"_streamlit_xsrf=1"),
    (b"authorization", b"Bearer secret"),
    (b"x-api-key", b"secret"),
    (b"proxy-authorization", b"Basic x"),
    (b"proxy-something", b"x"),
    (b"accept-language", b"en"),
    (b"user-agent", b"ua"),
    (b"if-none-match", b'"etag"'),
    (b"sec-fetch-mode", b"cors"),
    (b"x-xsrftoken", b"t"),
    (b"x-remote-user", b"ada"),
    (b"x-custom", b"1"),
]


def test_credentials_are_withheld_and_everything_else_passes_without_an_allowlist() -> None:
    out = upstream_request_headers(BROWSER, client_host=None, scheme="http", request_id=RID, policy=policy())
    assert names(out) == [
        "host", "cookie", "accept-language", "user-agent", "if-none-match", "sec-fetch-mode", "x-xsrftoken", "x-remote-user", "x-custom",
        "x-forwarded-proto", "x-forwarded-host", "x-request-id",
    ]  # fmt: skip


def test_allowlist_forwards_streamlit_needs_and_listed_names_only() -> None:
    allowlisted = policy(forward=["x-remote-user", "authorization", "X-Forwarded-For"])
    assert allowlisted.allowlist == frozenset({b"x-remote-user"})
    out = upstream_request_headers(BROWSER, client_host=None, scheme="http", request_id=RID, policy=allowlisted)
    assert names(out) == [
        "host", "cookie", "accept-language", "user-agent", "if-none-match", "sec-fetch-mode", "x-xsrftoken", "x-remote-user",
        "x-forwarded-proto", "x-forwarded-host", "x-request-id",
    ]  # fmt: skip


def test_websocket_upgrade_under_a_trusting_allowlist_policy_carries_one_host_and_no_h2c() -> None:
    out = upstream_request_headers(
        [(b"host", b"a"), (b"host", b"b"), (b"upgrade", b"h2c"), (b"http2-settings", b"AAA"), (b"sec-websocket-protocol", b"streamlit")],
        client_host="127.0.0.1",
        scheme="ws",
        request_id=RID,
        websocket=True,
        policy=policy(allow=["127.0.0.1"], forward=["x-remote-user"]),
    )
    assert names(out).count("host") == 1
    assert not {"upgrade", "http2-settings", "sec-websocket-protocol"} & set(names(out))

PROXIES = TrustedProxies.from_entries(["10.0.0.0/8"])


def api_scope(peer: str, *headers: tuple[bytes, bytes], kind: str = "http") -> dict:
    return {"type": kind, "client": (peer, 5000), "scheme": "http", "headers": list(headers)}


def test_untrusted_peer_changes_nothing() -> None:
    assert forwarded_scope(api_scope("203.0.113.7", (b"x-forwarded-for", b"6.6.6.6"), (b"x-forwarded-proto", b"https")), PROXIES) == {}


def test_client_is_the_nearest_hop_that_is_not_a_trusted_proxy() -> None:
    found = forwarded_scope(api_scope("10.0.0.2", (b"x-forwarded-for", b"6.6.6.6, 198.51.100.4"), (b"x-forwarded-for", b"10.0.0.9")), PROXIES)
    assert found == {"client": ("198.51.100.4", 0)}


def test_all_trusted_hops_give_the_leftmost_and_any_peer_trusts_everyone() -> None:
    assert forwarded_scope(api_scope("10.0.0.2", (b"x-forwarded-for", b"10.1.1.1, 10.2.2.2")), PROXIES) == {"client": ("10.1.1.1", 0)}
    anyone = TrustedProxies.from_entries(["*"])
    assert forwarded_scope(api_scope("203.0.113.7", (b"x-forwarded-for", b"6.6.6.6, 7.7.7.7")), anyone)["client"] == ("6.6.6.6", 0)


@pytest.mark.parametrize(
    ("kind", "proto", "scheme"),
    [("http", b"https", "https"), ("http", b"HTTPS, http", "https"), ("websocket", b"https", "wss"), ("websocket", b"http", "ws")],
)
def test_scheme_follows_the_first_forwarded_proto(kind: str, proto: bytes, scheme: str) -> None:
    assert forwarded_scope(api_scope("10.0.0.2", (b"x-forwarded-proto", proto), kind=kind), PROXIES) == {"scheme": scheme}


def test_nonsense_proto_is_ignored() -> None:
    assert forwarded_scope(api_scope("10.0.0.2", (b"x-forwarded-proto", b"javascript")), PROXIES) == {}
