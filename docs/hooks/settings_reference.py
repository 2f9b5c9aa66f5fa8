"""The configuration page's tables of settings, generated from ``FluxlitSettings``.

Variable names, types, bounds and defaults come from the model itself. The meaning of a setting is
its ``Field(description=...)`` followed by the note below, if any; every field must have one or the
other, and belong to exactly one section, or the build fails (see ``problems``).
"""

from typing import Any, Literal, get_args, get_origin

import annotated_types
from pydantic.fields import FieldInfo

from fluxlit.settings import ENV_PREFIX, FluxlitSettings, redact_value

SECTIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "Application and binding",
        ("title", "app", "gateway_host", "gateway_port", "api_mount_path", "log_level", "log_format", "pidfile", "gateway_lane"),
    ),
    (
        "Subpath and proxy trust",
        (
            "root_path", "trust_proxy", "forwarded_allow_ips", "public_base_url", "strict_public_base_url", "internal_api_base",
            "streamlit_upstream", "gateway_forward_client_headers_to_streamlit", "gateway_allow_underscore_headers",
        ),
    ),
    (
        "Limits and timeouts",
        (
            "gateway_max_proxy_request_body_bytes", "gateway_upstream_connect_timeout_s", "gateway_upstream_read_timeout_s",
            "gateway_header_read_timeout_s", "gateway_body_read_timeout_s", "gateway_min_body_rate_bps",
            "gateway_upstream_max_connections", "gateway_max_header_bytes", "gateway_max_header_count", "gateway_ws_max_message_bytes",
        ),
    ),
    (
        "Streamlit child and shutdown",
        (
            "streamlit_startup_timeout_s", "streamlit_stop_step_timeout_s", "streamlit_restart",
            "uvicorn_graceful_shutdown_timeout_s", "allow_unified_uvicorn_multiworker",
        ),
    ),
    (
        "Sessions and authentication",
        (
            "url_session_query_param", "url_session_ttl_seconds", "redis_url", "jwt_issuer", "jwt_audience", "jwt_algorithms",
            "jwt_jwks_url", "jwt_hs256_secret", "jwt_leeway_seconds", "oidc_issuer", "oidc_client_id", "oidc_client_secret",
            "oidc_scopes", "oidc_bff_secret",
        ),
    ),
    (
        "Observability and testing",
        (
            "debug", "enable_gateway_access_log", "enable_request_logging", "enable_gateway_prometheus_metrics",
            "gateway_prometheus_metrics_path", "otel_tracing", "test_page_overrides",
        ),
    ),
)  # fmt: skip
"""Where each setting is listed, in the order shown."""

NOTES: dict[str, str] = {
    "title": "FastAPI title (OpenAPI, the docs page).",
    "app": "Project-file key `target`. Used by `uvicorn fluxlit.runtime:create_unified_app --factory` and when a command gets no TARGET.",
    "gateway_host": "Bind address (`--host`); `0.0.0.0` in containers.",
    "gateway_port": "Public port (`--port`).",
    "api_mount_path": "Where FastAPI is mounted, under the root path.",
    "log_level": "`critical`, `error`, `warning`, `info`, `debug` or `trace` (`--log-level`).",
    "log_format": "See [observability.md](observability.md#where-the-lines-go).",
    "pidfile": "Written by `run`, `dev` and `workbench`, read by `shutdown`; relative to the working directory; empty: no pid file (`--pidfile`, `--no-pidfile`).",
    "gateway_lane": "Under `fluxlit run` (`--lane`); plain `uvicorn app:app` always uses the ASGI lane.",
    "root_path": "The API, its docs, the probes, Streamlit and its WebSockets all live under it ([reverse-proxies.md](reverse-proxies.md)).",
    "trust_proxy": "From any other peer they are replaced (`--proxy-headers`).",
    "forwarded_allow_ips": "Trusted proxy IPs and CIDRs, comma-separated or a JSON list (`--forwarded-allow-ips`); `*` trusts every peer and is reported as a warning.",
    "public_base_url": "For example `https://example.com/apps/my-app`.",
    "strict_public_base_url": "Make a conflict between `FLUXLIT_PUBLIC_BASE_URL` and `PUBLIC_BASE_URL` a failure in `doctor` and `config`.",
    "internal_api_base": "Default: `http://<loopback>:<port><root_path><api_mount_path>`. Its path must be the API prefix.",
    "gateway_forward_client_headers_to_streamlit": (
        "Allowlist of browser headers for the HTTP hop to Streamlit, at most 32; empty: every end-to-end header except credentials. "
        "Credential, hop-by-hop, forwarding and override names are never forwarded and are reported "
        "([reverse-proxies.md](reverse-proxies.md#browser-headers-that-reach-streamlit))."
    ),
    "gateway_allow_underscore_headers": "Some back ends read `Content_Length` as `Content-Length`. With an allowlist set, such a name must also be listed.",
    "gateway_max_proxy_request_body_bytes": (
        "A larger proxied request body gets 413 ([troubleshooting.md](troubleshooting.md#413-the-body-cap)); `/api` bodies are not capped."
    ),
    "gateway_upstream_connect_timeout_s": "Connecting to Streamlit; 502 after this.",
    "gateway_upstream_read_timeout_s": "Waiting for Streamlit's response; 502 after this (not for WebSockets).",
    "gateway_header_read_timeout_s": "A request head must be complete this long after connecting or after the previous response; else 408 (`fluxlit run` and `dev` only).",
    "gateway_body_read_timeout_s": "Proxied requests; the upstream request is aborted.",
    "gateway_min_body_rate_bps": "Bodies are read up to 64 KiB before an upstream connection is taken, so a trickling upload holds none.",
    "gateway_upstream_max_connections": "WebSockets are not counted.",
    "gateway_max_header_bytes": "Request line plus headers; larger gets 431 (`fluxlit run` and `dev` only).",
    "gateway_max_header_count": "Header fields per request; more get 431 (`fluxlit run` and `dev` only).",
    "gateway_ws_max_message_bytes": "Largest WebSocket message from a client; larger closes with 1009. With permessage-deflate the fast lane counts compressed bytes.",
    "streamlit_startup_timeout_s": "How long the child may take to answer its health check, at start-up and after a restart.",
    "streamlit_stop_step_timeout_s": "Each of SIGINT, terminate and kill when the child is stopped.",
    "streamlit_restart": "`/api/readyz` answers 503 meanwhile. `false`: the child stays down and `/api/readyz` says why.",
    "uvicorn_graceful_shutdown_timeout_s": "How long SIGTERM lets in-flight HTTP requests finish ([deployment.md](deployment.md#graceful-shutdown)).",
    "allow_unified_uvicorn_multiworker": (
        "Allow `uvicorn --workers N` with N > 1, one Streamlit child per worker ([troubleshooting.md](troubleshooting.md#startup-errors))."
    ),
    "url_session_query_param": "See [scaling.md](scaling.md).",
    "jwt_issuer": "See [auth.md](auth.md#jwt-bearer) (`fluxlit[auth]`).",
    "jwt_algorithms": "JSON list or comma-separated; HS256 when only a secret is set.",
    "oidc_issuer": "See [auth.md](auth.md#oidc-login-backend-for-frontend).",
    "debug": (
        "Debug mode: access and API request logs, the `[fluxlit-debug]` start-up line, the `/__fluxlit/debug` snapshot, request ids from pages "
        "to the API (`--debug`; [observability.md](observability.md#debug-mode))."
    ),
    "enable_gateway_access_log": "One line per request at the gateway ([observability.md](observability.md#access-log)).",
    "enable_request_logging": "One line per request to the API.",
    "enable_gateway_prometheus_metrics": "Serve Prometheus metrics; needs `pip install 'fluxlit[metrics]'` ([observability.md](observability.md#prometheus-metrics)).",
    "gateway_prometheus_metrics_path": "Where the metrics are served, under the root path; not under the API mount.",
    "otel_tracing": "See [observability.md](observability.md#tracing).",
    "test_page_overrides": (
        "Logged as a warning at start-up and a `doctor` WARN; never set it in production "
        "([testing.md](testing.md#fakes-in-a-real-fluxlit-run))."
    ),
}
"""What a setting's ``description`` leaves unsaid: consequences, flags, links. Appended to it."""

_BOUNDS = ((annotated_types.Ge, "ge", "≥"), (annotated_types.Gt, "gt", ">"), (annotated_types.Le, "le", "≤"), (annotated_types.Lt, "lt", "<"))
_UNITS = ((1024 * 1024, "MiB"), (1024, "KiB"))


def env_name(name: str) -> str:
    """The environment variable of a setting."""
    return ENV_PREFIX + name.upper()


def type_text(field: FieldInfo) -> str:
    """The accepted type and bounds: ``int, ≥ 1, ≤ 65535``; a ``Literal`` lists its values."""
    annotation = field.annotation
    if get_origin(annotation) is Literal:
        return " or ".join(f"`{value}`" for value in get_args(annotation))
    text = annotation.__name__ if isinstance(annotation, type) else str(annotation)
    bounds = [f"{sign} {getattr(item, attr)}" for item in field.metadata for kind, attr, sign in _BOUNDS if isinstance(item, kind)]
    return ", ".join([text, *bounds])


def default_text(name: str, field: FieldInfo) -> str:
    """The default as a reader would write it; empty values read "none", secrets are redacted."""
    value = field.get_default(call_default_factory=True)
    if value in ("", [], {}):
        return "none"
    shown = redact_value(name, value)
    if isinstance(shown, bool):
        return f"`{str(shown).lower()}`"
    if isinstance(shown, list):
        return ", ".join(f"`{item}`" for item in shown)
    text = f"`{shown}`"
    if name.endswith("_bytes") and isinstance(shown, int):
        unit = next(((size, label) for size, label in _UNITS if shown >= size and shown % size == 0), None)
        text += f" ({shown // unit[0]} {unit[1]})" if unit else ""
    return text


def meaning(name: str, field: FieldInfo) -> str:
    """The setting's description, then its note."""
    return " ".join(part for part in (field.description, NOTES.get(name)) if part)


def _cell(text: Any) -> str:
    return str(text).replace("|", "\\|")


def markdown() -> str:
    """One table per section: variable, type, default, meaning."""
    fields = FluxlitSettings.model_fields
    parts = []
    for title, names in SECTIONS:
        rows = [
            f"| `{env_name(name)}` | {_cell(type_text(fields[name]))} | {_cell(default_text(name, fields[name]))} | {_cell(meaning(name, fields[name]))} |"
            for name in names
            if name in fields
        ]
        parts.append("\n".join([f"### {title}", "", "| variable | type | default | meaning |", "|---|---|---|---|", *rows]))
    return "\n\n".join(parts) + "\n"


def problems() -> list[str]:
    """Why the tables would not describe ``FluxlitSettings`` exactly; empty when they do."""
    fields = FluxlitSettings.model_fields
    listed = [name for _, names in SECTIONS for name in names]
    found = []
    for name in fields:
        if listed.count(name) != 1:
            found.append(f"FluxlitSettings.{name} is listed {listed.count(name)} times in SECTIONS of docs/hooks/settings_reference.py; list it once")
        if not meaning(name, fields[name]):
            found.append(f"FluxlitSettings.{name} has no description: give the field description=... or add a NOTES entry")
    found += [f"SECTIONS names {name!r}, which is not a FluxlitSettings field" for name in dict.fromkeys(listed) if name not in fields]
    found += [f"NOTES names {name!r}, which is not a FluxlitSettings field" for name in NOTES if name not in fields]
    return found
