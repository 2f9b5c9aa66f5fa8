"""Logging for FluxLit: JSON lines, redaction of credentials, and the loggers the gateway writes to."""

import json
import logging
import sys
from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from typing import TYPE_CHECKING, TypeVar, overload
from urllib.parse import unquote_plus

from ._speedups.header_names import CREDENTIAL_HEADERS

if TYPE_CHECKING:
    from .settings import FluxlitSettings

ACCESS_LOGGER = "fluxlit.gateway.access"
"""One line per gateway request, written when the request ends."""
API_LOGGER = "fluxlit.api"
"""``METHOD path -> status`` per request to the inner API (``FLUXLIT_ENABLE_REQUEST_LOGGING``)."""

MASK = "***"
DEFAULT_SENSITIVE_QUERY_KEYS: tuple[str, ...] = (
    "fluxlit_sid",
    "auth_code",
    "code",
    "state",
    "token",
    "access_token",
    "id_token",
    "refresh_token",
    "api_key",
    "password",
    "secret",
)
# Header-name fragments that mark a credential wherever they appear (x-goog-iap-jwt-token, x-client-secret...).
_SENSITIVE_FRAGMENTS = ("secret", "token", "password", "passwd", "session", "api-key", "apikey", "credential", "signature")
_TEXT_FORMAT = "%(levelname)-8s %(name)s: %(message)s"
_LEVELS = {"critical": logging.CRITICAL, "error": logging.ERROR, "warning": logging.WARNING, "info": logging.INFO}
# Attributes every LogRecord has; anything else on a record came from ``extra=``.
_RECORD_ATTRIBUTES = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName", "color_message"}

Name = TypeVar("Name", str, bytes)
Value = TypeVar("Value", str, bytes)


def is_sensitive_header(name: str | bytes) -> bool:
    """Whether a header carries credentials (Authorization, Cookie, Proxy-*, X-Api-Key and similar)."""
    lowered = (name.decode("latin-1") if isinstance(name, bytes) else name).strip().lower()
    return lowered in CREDENTIAL_HEADERS or lowered.startswith("proxy-") or any(f in lowered for f in _SENSITIVE_FRAGMENTS)


def _mask(value: Value) -> Value:
    return MASK.encode() if isinstance(value, bytes) else MASK  # type: ignore[return-value]


@overload
def redact(headers: Mapping[Name, Value]) -> dict[Name, Value]: ...
@overload
def redact(headers: Iterable[tuple[Name, Value]]) -> list[tuple[Name, Value]]: ...
def redact(headers: Mapping[Name, Value] | Iterable[tuple[Name, Value]]) -> dict[Name, Value] | list[tuple[Name, Value]]:
    """A copy of a header map or list with credential values replaced by ``***``, safe to log."""
    if isinstance(headers, Mapping):
        return {name: _mask(value) if is_sensitive_header(name) else value for name, value in headers.items()}
    return [(name, _mask(value) if is_sensitive_header(name) else value) for name, value in headers]


def redact_query_string(query: str | bytes, sensitive_keys: Iterable[str] = DEFAULT_SENSITIVE_QUERY_KEYS) -> str:
    """The query string with the values of sensitive keys replaced by ``***``; everything else as received."""
    text = query.decode("latin-1") if isinstance(query, bytes) else query
    if not text:
        return ""
    keys = {key.lower() for key in sensitive_keys}
    parts = []
    for part in text.split("&"):
        name, sep, _ = part.partition("=")
        parts.append(f"{name}={MASK}" if sep and unquote_plus(name).lower() in keys else part)
    return "&".join(parts)


class JsonLogFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, the record's ``extra`` fields, exception text."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _RECORD_ATTRIBUTES and not key.startswith("_"):
                entry.setdefault(key, value)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


def configure_logging(settings: "FluxlitSettings") -> None:
    """Give the ``fluxlit`` loggers a level and, unless the application configured logging, a stderr handler.

    ``FLUXLIT_LOG_FORMAT=json`` makes that handler write ``JsonLogFormatter`` lines. An application
    that installs its own handlers (on ``fluxlit`` or the root logger) keeps them untouched.
    """
    logger = logging.getLogger("fluxlit")
    if logger.level == logging.NOTSET:
        logger.setLevel(_LEVELS.get(settings.log_level, logging.DEBUG))
    if logger.handlers or logging.getLogger().handlers:
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonLogFormatter() if settings.log_format == "json" else logging.Formatter(_TEXT_FORMAT))
    logger.addHandler(handler)


PAGE_FORWARDED = ("x-request-id", "traceparent", "tracestate")
"""What a page's API calls carry from its session's WebSocket handshake (the request id in debug mode only)."""


def page_forward_headers() -> dict[str, str]:
    """Inside a Streamlit page: the request id and trace context the gateway put on this session's handshake."""
    if "streamlit" not in sys.modules:
        return {}
    import streamlit as st
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    if get_script_run_ctx(suppress_warning=True) is None:
        return {}
    headers = st.context.headers
    return {name: value for name in PAGE_FORWARDED if (value := headers.get(name))}
