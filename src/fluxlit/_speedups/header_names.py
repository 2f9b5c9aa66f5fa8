"""Header names the header-policy kernel sorts by; defined once, here, for both twins and the settings."""

HOP_BY_HOP = frozenset(
    {
        b"connection",
        b"keep-alive",
        b"proxy-connection",
        b"proxy-authenticate",
        b"proxy-authorization",
        b"te",
        b"trailer",
        b"trailers",
        b"transfer-encoding",
        b"upgrade",
        # The gateway answers 100-continue itself; h2c upgrades are never forwarded.
        b"expect",
        b"http2-settings",
    }
)
CLIENT_FORWARDING = frozenset(
    {
        b"forwarded",
        b"x-forwarded-for",
        b"x-forwarded-host",
        b"x-forwarded-proto",
        b"x-forwarded-port",
        b"x-forwarded-prefix",
        b"x-real-ip",
        b"x-scheme",
        b"x-request-id",
    }
)
"""Forwarding headers the gateway sets itself: a client's are removed, a trusted proxy's extended or honoured."""

OVERRIDE_AND_IDENTITY = frozenset(
    {
        b"x-original-url",
        b"x-rewrite-url",
        b"x-forwarded-server",
        b"x-forwarded-scheme",
        b"true-client-ip",
        b"x-client-ip",
        b"x-cluster-client-ip",
        b"cf-connecting-ip",
        b"fastly-client-ip",
        b"x-original-forwarded-for",
    }
)
"""Headers some back ends obey to rewrite the path or believe a client address: never forwarded, whoever sends them."""

HONOURED_FROM_TRUSTED = (b"x-forwarded-proto", b"x-forwarded-host", b"x-forwarded-port", b"x-forwarded-prefix")
"""What a trusted proxy may tell Streamlit besides the X-Forwarded-For chain (first value wins)."""

WEBSOCKET_HANDSHAKE = frozenset(
    {b"sec-websocket-key", b"sec-websocket-version", b"sec-websocket-extensions", b"sec-websocket-protocol"}
)
CREDENTIAL_HEADERS = frozenset(
    {"authorization", "cookie", "set-cookie", "x-api-key", "x-auth-token", "x-csrf-token", "x-xsrf-token", "x-amz-security-token"}
)
"""Names that carry credentials: never added to Streamlit's allowlist, redacted in logs."""

WITHHELD_CREDENTIALS = frozenset(n.encode() for n in CREDENTIAL_HEADERS - {"cookie"})
"""Credentials Streamlit has no use for. Cookie stays: Streamlit's XSRF check and st.login read it."""

STREAMLIT_NEEDS = frozenset(
    {
        b"host",
        b"cookie",
        b"user-agent",
        b"origin",
        b"referer",
        b"content-type",
        b"content-length",
        b"range",
        b"cache-control",
        b"pragma",
        b"sec-websocket-protocol",
        b"x-xsrftoken",
        b"x-csrftoken",
        b"mcp-protocol-version",
    }
)
"""With an allowlist set, these still go through: Streamlit's pages, uploads, XSRF and handshake read them."""

STREAMLIT_NEEDS_PREFIXES = (b"accept", b"if-", b"sec-fetch-")

RESPONSE_OWNED = frozenset({b"date", b"server", b"x-request-id"})
"""The front server writes its own Date and Server; the gateway sets the request id."""

REQUEST_ID = b"x-request-id"
