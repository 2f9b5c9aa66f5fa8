"""FluxlitSettings: every knob in one validated object, read from ``FLUXLIT_*`` variables."""

from functools import cached_property

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ENV_PREFIX = "FLUXLIT_"


class SettingsError(ValueError):
    """A setting has a value FluxLit cannot use; the message names it and the accepted form."""


def _normalize_prefix(value: str, *, empty: str) -> str:
    value = value.strip()
    if not value or value == "/":
        return empty
    return "/" + value.strip("/")


class FluxlitSettings(BaseSettings):
    """Effective configuration; precedence: CLI flag -> ``FLUXLIT_*`` env -> defaults."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore", validate_default=True)

    title: str = "FluxLit"
    app: str = Field("", description="Import target module:attribute for the factory and the Streamlit child.")
    gateway_host: str = "127.0.0.1"
    gateway_port: int = Field(8000, ge=1, le=65535)
    api_mount_path: str = "/api"
    root_path: str = ""
    internal_api_base: str = Field("", description="URL the Streamlit child uses to reach the API.")
    streamlit_upstream: str = Field("", description="Existing Streamlit to proxy to instead of starting a child.")
    gateway_upstream_connect_timeout_s: float = Field(5.0, gt=0)
    gateway_upstream_read_timeout_s: float = Field(60.0, gt=0)
    gateway_ws_max_message_bytes: int = Field(200 * 1024 * 1024, gt=0)
    streamlit_startup_timeout_s: float = Field(60.0, gt=0)
    streamlit_stop_step_timeout_s: float = Field(5.0, gt=0)
    uvicorn_graceful_shutdown_timeout_s: float = Field(20.0, gt=0)
    log_level: str = "info"

    @field_validator("api_mount_path")
    @classmethod
    def _mount(cls, value: str) -> str:
        return _normalize_prefix(value, empty="/api")

    @field_validator("root_path")
    @classmethod
    def _root(cls, value: str) -> str:
        return _normalize_prefix(value, empty="")

    @field_validator("streamlit_upstream", "internal_api_base")
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

    @cached_property
    def api_prefix(self) -> str:
        """Public path of the API: root path + mount (``/apps/x/api``)."""
        return self.root_path + self.api_mount_path


def load_settings(**overrides: object) -> FluxlitSettings:
    """Build settings, turning validation errors into one message per bad variable."""
    try:
        return FluxlitSettings(**overrides)
    except ValidationError as exc:
        lines = []
        for error in exc.errors():
            name = ENV_PREFIX + "_".join(str(part) for part in error["loc"]).upper()
            lines.append(f"{name}={error.get('input')!r}: {error['msg']}")
        raise SettingsError("invalid FluxLit settings:\n  " + "\n  ".join(lines)) from None
