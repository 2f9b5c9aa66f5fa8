"""FluxlitSettings: every knob in one validated object.

Precedence: CLI flag (the CLI exports it as ``FLUXLIT_*``) -> ``FLUXLIT_*`` environment ->
project file (``fluxlit.toml`` or ``[tool.fluxlit]``) -> defaults.
"""

import ipaddress
import json
import os
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit, urlunsplit

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, InitSettingsSource, NoDecode, PydanticBaseSettingsSource, SettingsConfigDict

from ._speedups.header_names import CREDENTIAL_HEADERS, HOP_BY_HOP, OVERRIDE_AND_IDENTITY
from .project_file import ProjectFileError, read_project_file

ENV_PREFIX = "FLUXLIT_"
MiB = 1024 * 1024
Source = Literal["env", "project file", "default", "app"]

FORWARDING_HEADERS = frozenset({"host", "forwarded", "x-real-ip", "x-request-id", "x-scheme"})


class SettingsError(ValueError):
    """A setting has a value FluxLit cannot use; the message names it and the accepted form."""


def _normalize_prefix(value: str, *, empty: str) -> str:
    value = value.strip()
    if not value or value == "/":
        return empty
    return "/" + value.strip("/")


def _list(value: Any) -> Any:
    """A list from a list, a JSON array or comma-separated text."""
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            return json.loads(text)
        return [item.strip() for item in text.split(",") if item.strip()]
    return value


def refused_forward_header(name: str) -> str | None:
    """Why a browser header may not be put on the allowlist, or ``None`` when it may."""
    lowered = name.strip().lower()
    if lowered in CREDENTIAL_HEADERS or lowered.startswith("proxy-") or any(w in lowered for w in ("secret", "token", "password", "session")):
        return "carries credentials"
    if lowered in FORWARDING_HEADERS or lowered.startswith("x-forwarded-"):
        return "is set by the gateway itself"
    if lowered.encode() in HOP_BY_HOP:
        return "is hop-by-hop"
    if lowered.encode() in OVERRIDE_AND_IDENTITY:
        return "rewrites the path or claims a client address"
    return None


class FluxlitSettings(BaseSettings):
    """Effective configuration of a FluxLit app, its gateway and its Streamlit child."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore", validate_default=True)

    title: str = Field("FluxLit", description="Title of the API (OpenAPI, docs pages).")
    app: str = Field("", description="Import target module:attribute (factory, Streamlit child).")
    gateway_host: str = Field("127.0.0.1", description="Address the gateway binds.")
    gateway_port: int = Field(8000, ge=1, le=65535, description="Public port.")
    log_level: str = Field("info", description="critical, error, warning, info, debug or trace.")
    api_mount_path: str = Field("/api", description="Where FastAPI is mounted, under the root path.")
    root_path: str = Field("", description="Public subpath, e.g. /apps/my-app.")
    trust_proxy: bool = Field(False, description="Honour X-Forwarded-* from FORWARDED_ALLOW_IPS peers.")
    forwarded_allow_ips: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["127.0.0.1"], description="Peers whose X-Forwarded-* headers are trusted: IPs and CIDRs, or *."
    )
    public_base_url: str = Field("", description="Canonical public origin (+ root path); falls back to PUBLIC_BASE_URL.")
    strict_public_base_url: bool = Field(False, description="Fail doctor and config when FLUXLIT_PUBLIC_BASE_URL and PUBLIC_BASE_URL disagree.")
    internal_api_base: str = Field("", description="URL the Streamlit child uses to reach the API.")
    streamlit_upstream: str = Field("", description="Existing Streamlit to proxy to instead of starting a child.")
    debug: bool = Field(False, description="Debug mode: access and API request logs, the debug snapshot, request ids from pages to the API.")
    enable_gateway_access_log: bool = Field(False, description="One access-log line per gateway request.")
    enable_request_logging: bool = Field(False, description="One log line per API request.")
    enable_gateway_prometheus_metrics: bool = Field(False, description="Serve Prometheus metrics (fluxlit[metrics]).")
    gateway_prometheus_metrics_path: str = Field("/__fluxlit/metrics", description="Where the metrics are served, under the root path; not under the API mount.")
    gateway_max_proxy_request_body_bytes: int = Field(200 * MiB, ge=0, description="0 means unlimited.")
    gateway_upstream_connect_timeout_s: float = Field(5.0, gt=0, description="Connecting to Streamlit; 502 after this.")
    gateway_upstream_read_timeout_s: float = Field(60.0, gt=0, description="Waiting for Streamlit's response (not WebSockets); 502 after this.")
    gateway_header_read_timeout_s: float = Field(10.0, gt=0, description="A request head must be complete this long after connecting or after the previous response (408).")
    gateway_body_read_timeout_s: float = Field(30.0, gt=0, description="Longest pause between request-body bytes (408).")
    gateway_min_body_rate_bps: int = Field(1024, ge=0, description="Slowest request body, averaged over 10 s after the first 10 s (408); 0 = off.")
    gateway_upstream_max_connections: int = Field(512, ge=1, description="Most HTTP connections to Streamlit at once; beyond, wait up to the connect timeout, then 503.")
    gateway_max_header_bytes: int = Field(32 * 1024, ge=1024, description="Largest request line plus headers (431).")
    gateway_max_header_count: int = Field(100, ge=8, description="Most header fields per request (431).")
    gateway_ws_max_message_bytes: int = Field(200 * MiB, gt=0, description="Largest WebSocket message from a client (close 1009).")
    gateway_forward_client_headers_to_streamlit: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="Allowlist of browser headers for the HTTP hop to Streamlit, at most 32; empty: every end-to-end header but credentials."
    )
    gateway_allow_underscore_headers: bool = Field(False, description="Forward header names with underscores (dropped by default, as nginx does).")
    streamlit_startup_timeout_s: float = Field(60.0, gt=0, description="How long the child may take to answer its health check, at start-up and after a restart.")
    streamlit_stop_step_timeout_s: float = Field(5.0, gt=0, description="Each of SIGINT, terminate and kill when the child is stopped.")
    streamlit_restart: bool = Field(True, description="Restart a Streamlit child that dies, with backoff, at most 5 times a minute.")
    uvicorn_graceful_shutdown_timeout_s: float = Field(20.0, gt=0, description="How long SIGTERM lets in-flight HTTP requests finish.")
    allow_unified_uvicorn_multiworker: bool = Field(False, description="Allow uvicorn --workers N > 1, one Streamlit child per worker.")
    pidfile: str = Field(".fluxlit.pid", description="Written by run, dev and workbench, read by shutdown; empty: no pid file.")
    gateway_lane: Literal["fast", "asgi"] = Field("fast", description="fast: proxied bytes spliced in the edge; asgi: through ASGI + aiohttp.")
    log_format: Literal["text", "json"] = Field("text", description="json: the fluxlit loggers write JsonLogFormatter lines.")
    jwt_issuer: str = Field("", description="Expected `iss` of bearer tokens (JWTBearer.from_fluxlit_settings).")
    jwt_audience: str = Field("", description="Expected `aud` of bearer tokens.")
    jwt_algorithms: Annotated[list[str], NoDecode] = Field(default_factory=lambda: ["RS256"], description="Accepted signing algorithms.")
    jwt_jwks_url: str = Field("", description="Where the issuer publishes its signing keys (RS/ES/PS algorithms).")
    jwt_hs256_secret: str = Field("", description="Shared secret for HS256 tokens (instead of a JWKS URL).")
    jwt_leeway_seconds: int = Field(0, ge=0, description="Clock skew allowed on exp/nbf/iat.")
    oidc_issuer: str = Field("", description="OpenID provider issuer URL (discovery at /.well-known/openid-configuration).")
    oidc_client_id: str = Field("", description="This app's client id at the provider.")
    oidc_client_secret: str = Field("", description="This app's client secret at the provider (redacted everywhere).")
    oidc_scopes: str = Field("openid profile email", description="Scopes the login asks for.")
    oidc_bff_secret: str = Field("", description="HS256 secret (32+ bytes) for first-party tokens the gateway gives pages.")
    otel_tracing: bool = Field(False, description="OpenTelemetry spans for gateway requests and page API calls (fluxlit[otel]).")
    url_session_query_param: str = Field("fluxlit_sid", description="Query parameter that carries the URL-session id (redacted in logs).")
    url_session_ttl_seconds: int = Field(86400, gt=0, description="How long an unused URL session lives in its store.")
    redis_url: str = Field("", description="redis://host:port/db for RedisSessionStore.from_fluxlit_settings (fluxlit[redis]).")
    test_page_overrides: Annotated[dict[str, str], NoDecode] = Field(
        default_factory=dict,
        description='Fake page dependencies for browser tests: JSON {"pkg.mod.dependency": "tests.fakes.fake"}.',
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return init_settings, env_settings, InitSettingsSource(settings_cls, project_values())

    @field_validator("api_mount_path")
    @classmethod
    def _mount(cls, value: str) -> str:
        return _normalize_prefix(value, empty="/api")

    @field_validator("root_path")
    @classmethod
    def _root(cls, value: str) -> str:
        return _normalize_prefix(value, empty="")

    @field_validator("gateway_prometheus_metrics_path")
    @classmethod
    def _metrics_path(cls, value: str) -> str:
        return _normalize_prefix(value, empty="/__fluxlit/metrics")

    @field_validator("streamlit_upstream", "internal_api_base", "public_base_url")
    @classmethod
    def _url(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if value and not value.startswith(("http://", "https://")):
            raise ValueError("must be an absolute http:// or https:// URL")
        return value

    @field_validator("log_level")
    @classmethod
    def _level(cls, value: str) -> str:
        value = value.strip().lower()
        if value not in {"critical", "error", "warning", "info", "debug", "trace"}:
            raise ValueError("must be one of critical, error, warning, info, debug, trace")
        return value

    @field_validator("forwarded_allow_ips", mode="before")
    @classmethod
    def _ips(cls, value: Any) -> Any:
        items = _list(value)
        for item in items if isinstance(items, list) else []:
            if item != "*":
                try:
                    ipaddress.ip_network(str(item), strict=False)
                except ValueError:
                    raise ValueError(f"{item!r} is not an IP address or CIDR (use e.g. 10.0.0.0/8,127.0.0.1 or *)") from None
        return items

    @field_validator("test_page_overrides", mode="before")
    @classmethod
    def _overrides(cls, value: Any) -> Any:
        if isinstance(value, str):
            try:
                value = json.loads(value) if value.strip() else {}
            except json.JSONDecodeError:
                raise ValueError('must be a JSON object mapping dependencies to fakes: {"pkg.mod.dependency": "tests.fakes.fake"}') from None
        return value

    @field_validator("jwt_algorithms", mode="before")
    @classmethod
    def _algorithms(cls, value: Any) -> Any:
        return _list(value)

    @field_validator("gateway_forward_client_headers_to_streamlit", mode="before")
    @classmethod
    def _forward_names(cls, value: Any) -> Any:
        items = _list(value)
        if isinstance(items, list) and len(items) > 32:
            raise ValueError("at most 32 header names")
        return [str(item).strip().lower() for item in items] if isinstance(items, list) else items

    @model_validator(mode="before")
    @classmethod
    def _legacy_public_base_url(cls, data: Any) -> Any:
        # Plain PUBLIC_BASE_URL is only a fallback for FLUXLIT_PUBLIC_BASE_URL.
        if isinstance(data, dict) and not data.get("public_base_url") and os.environ.get("PUBLIC_BASE_URL"):
            data = {**data, "public_base_url": os.environ["PUBLIC_BASE_URL"]}
        return data

    @cached_property
    def api_prefix(self) -> str:
        """Public path of the API: root path + mount (``/apps/x/api``)."""
        return self.root_path + self.api_mount_path

    @cached_property
    def forward_client_headers(self) -> tuple[str, ...]:
        """Allowlisted browser headers that may really be forwarded (refused names removed)."""
        return tuple(n for n in self.gateway_forward_client_headers_to_streamlit if refused_forward_header(n) is None)

    @cached_property
    def refused_forward_headers(self) -> dict[str, str]:
        """Allowlisted names that are never forwarded, with the reason."""
        return {
            n: reason for n in self.gateway_forward_client_headers_to_streamlit if (reason := refused_forward_header(n)) is not None
        }

    def redacted(self) -> dict[str, Any]:
        """Settings as a plain dict that is safe to print (credentials in URLs masked)."""
        return {name: redact_value(name, value) for name, value in self.model_dump().items()}


def redact_value(name: str, value: Any) -> Any:
    """Mask a setting value that may hold a secret."""
    if isinstance(value, str) and any(word in name for word in ("secret", "token", "password", "key")) and value:
        return "***"
    if isinstance(value, str) and "://" in value and "@" in value:
        parts = urlsplit(value)
        if parts.username or parts.password:
            host = parts.hostname or ""
            netloc = f"***@{host}" + (f":{parts.port}" if parts.port else "")
            return urlunsplit(parts._replace(netloc=netloc))
    return value


def project_values(cwd: Path | None = None) -> dict[str, Any]:
    """Setting values from the project file (its ``target`` key is the import target)."""
    data = dict(read_project_file(cwd).data)
    if "target" in data and "app" not in data:
        data["app"] = data.pop("target")
    return {k: v for k, v in data.items() if k in FluxlitSettings.model_fields}


def sources(settings: FluxlitSettings, cwd: Path | None = None) -> dict[str, Source]:
    """Where each effective value came from."""
    from_file = project_values(cwd)
    return {
        name: "env" if ENV_PREFIX + name.upper() in os.environ else "project file" if name in from_file else "default"
        for name in settings.model_fields
    }


_MESSAGES = {
    "int_parsing": "is not a whole number",
    "float_parsing": "is not a number",
    "bool_parsing": "is not a boolean (use 1/true/yes/on or 0/false/no/off)",
}


def load_settings(**overrides: object) -> FluxlitSettings:
    """Build settings, turning validation errors into one line per bad setting."""
    try:
        return FluxlitSettings(**overrides)
    except ProjectFileError as exc:
        raise SettingsError(str(exc)) from None
    except ValidationError as exc:
        file = read_project_file().path
        file_values = project_values()
        lines = []
        for error in exc.errors():
            field = str(error["loc"][0]) if error["loc"] else "?"
            env = ENV_PREFIX + field.upper()
            where = env if env in os.environ or file is None or field not in file_values else f"{field} in {file}"
            message = _MESSAGES.get(error["type"], error["msg"].removeprefix("Value error, "))
            lines.append(f"{where}={error.get('input')!r} {message}")
        raise SettingsError("invalid FluxLit settings:\n  " + "\n  ".join(lines)) from None
