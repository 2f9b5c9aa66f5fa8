"""The configuration page's tables of settings, generated from ``FluxlitSettings``.

Variable names, types, bounds, defaults and meanings come from the model itself: every field must
have a ``Field(description=...)`` and belong to exactly one section, or the build fails (see
``problems``). A note below adds what a description leaves unsaid: flags, consequences, links.
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
    "app": "Project-file key `target`. Used by `uvicorn fluxlit.runtime:create_unified_app --factory` and when a command gets no TARGET.",
    "gateway_host": "`--host`; `0.0.0.0` in containers.",
    "gateway_port": "`--port`.",
    "log_level": "`--log-level`.",
    "log_format": "See [observability.md](observability.md#where-the-lines-go).",
    "pidfile": "Relative to the working directory (`--pidfile`, `--no-pidfile`).",
    "gateway_lane": "Under `fluxlit run` (`--lane`); plain `uvicorn app:app` always uses the ASGI lane.",
    "root_path": "The API, its docs, the probes, Streamlit and its WebSockets all live under it ([reverse-proxies.md](reverse-proxies.md)).",
    "trust_proxy": "From any other peer they are replaced (`--proxy-headers`).",
    "forwarded_allow_ips": "Comma-separated or a JSON list (`--forwarded-allow-ips`); `*` trusts every peer and is reported as a warning.",
    "public_base_url": "For example `https://example.com/apps/my-app`.",
    "internal_api_base": "Default: `http://<loopback>:<port><root_path><api_mount_path>`. Its path must be the API prefix.",
    "gateway_forward_client_headers_to_streamlit": (
        "Credential, hop-by-hop, forwarding and override names are never forwarded and are reported "
        "([reverse-proxies.md](reverse-proxies.md#browser-headers-that-reach-streamlit))."
    ),
    "gateway_allow_underscore_headers": (
        "Some back ends read `Content_Length` as `Content-Length`. With an allowlist set, such a name must also be "
        "listed."
    ),
    "gateway_max_proxy_request_body_bytes": (
        "A larger proxied request body gets 413 ([troubleshooting.md](troubleshooting.md#413-the-body-cap)); `/api` "
        "bodies are not capped."
    ),
    "gateway_header_read_timeout_s": "`fluxlit run` and `dev` only.",
    "gateway_body_read_timeout_s": "Proxied requests; the upstream request is aborted.",
    "gateway_min_body_rate_bps": "Bodies are read up to 64 KiB before an upstream connection is taken, so a trickling upload holds none.",
    "gateway_upstream_max_connections": "WebSockets are not counted.",
    "gateway_max_header_bytes": "`fluxlit run` and `dev` only.",
    "gateway_max_header_count": "`fluxlit run` and `dev` only.",
    "gateway_ws_max_message_bytes": "With permessage-deflate the fast lane counts compressed bytes.",
    "streamlit_restart": "`/api/readyz` answers 503 meanwhile. `false`: the child stays down and `/api/readyz` says why.",
    "uvicorn_graceful_shutdown_timeout_s": "See [deployment.md](deployment.md#graceful-shutdown).",
    "allow_unified_uvicorn_multiworker": "See [troubleshooting.md](troubleshooting.md#startup-errors).",
    "url_session_query_param": "See [scaling.md](scaling.md).",
    "jwt_issuer": "See [auth.md](auth.md#jwt-bearer) (`fluxlit[auth]`).",
    "jwt_algorithms": "JSON list or comma-separated; HS256 when only a secret is set.",
    "oidc_issuer": "See [auth.md](auth.md#oidc-login-backend-for-frontend).",
    "debug": "`--debug`; see [observability.md](observability.md#debug-mode).",
    "enable_gateway_access_log": "See [observability.md](observability.md#access-log).",
    "enable_gateway_prometheus_metrics": "Install `fluxlit[metrics]`; see [observability.md](observability.md#prometheus-metrics).",
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
        if not fields[name].description:
            found.append(f"FluxlitSettings.{name} has no description: give the field description=... in src/fluxlit/settings.py")
    found += [f"SECTIONS names {name!r}, which is not a FluxlitSettings field" for name in dict.fromkeys(listed) if name not in fields]
    found += [f"NOTES names {name!r}, which is not a FluxlitSettings field" for name in NOTES if name not in fields]
    return found
