"""OpenTelemetry spans (``FLUXLIT_OTEL_TRACING=1``, extra ``fluxlit[otel]``): one per gateway request, in
both lanes, and one per page API call, each continuing the caller's W3C trace context.

Off, nothing here is imported and no request pays for it. On, spans go to the global tracer provider:
the app's own, or, when it configured none, an SDK provider with the OTLP/HTTP exporter, which reads
the standard ``OTEL_EXPORTER_OTLP_*`` variables.
"""

import functools
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from .settings import SettingsError

try:
    from opentelemetry import propagate, trace
    from opentelemetry.trace import SpanKind, Status, StatusCode
except ImportError:  # pragma: no cover - exercised only without the extra
    trace = None  # type: ignore[assignment]

INSTRUMENTATION = "fluxlit"


def require_otel() -> None:
    """``SettingsError`` naming the extra when OpenTelemetry is not installed."""
    if trace is None:
        raise SettingsError("FLUXLIT_OTEL_TRACING=1 needs the otel extra: pip install 'fluxlit[otel]'")


@functools.cache
def ensure_tracer_provider() -> None:
    """Install an SDK provider with the OTLP/HTTP exporter unless the app set a provider of its own."""
    require_otel()
    if not isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider):
        return
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    provider = TracerProvider(resource=Resource.create({"service.name": "fluxlit"}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)


class _AsgiHeaders:
    """Reads W3C trace context from ASGI header pairs (``propagate.extract``'s getter)."""

    @staticmethod
    def get(carrier: list[tuple[bytes, bytes]], key: str) -> list[str] | None:
        wanted = key.encode()
        found = [value.decode("latin-1") for name, value in carrier if name.lower() == wanted]
        return found or None

    @staticmethod
    def keys(carrier: list[tuple[bytes, bytes]]) -> list[str]:
        return [name.decode("latin-1") for name, _ in carrier]


class GatewayTracer:
    """Records a finished gateway request as a SERVER span, parented on the request's ``traceparent``."""

    def __init__(self) -> None:
        ensure_tracer_provider()
        self.tracer = trace.get_tracer(INSTRUMENTATION)

    def finished(self, scope: Mapping[str, Any], *, dispatch: str, method: str, path: str, code: int, request_id: str, duration: float) -> None:
        """One span for a request that took ``duration`` seconds and ended now."""
        end = time.time_ns()
        parent = propagate.extract(scope.get("headers", []), getter=_AsgiHeaders)
        attributes = {
            "http.request.method": method,
            "url.path": path,
            "fluxlit.dispatch": dispatch,
            "fluxlit.request_id": request_id,
            "websocket.close_code" if method == "WEBSOCKET" else "http.response.status_code": code,
        }
        span = self.tracer.start_span("fluxlit.gateway.request", context=parent, kind=SpanKind.SERVER, attributes=attributes, start_time=end - int(duration * 1e9))
        if method != "WEBSOCKET" and code >= 500:
            span.set_status(Status(StatusCode.ERROR))
        span.end(end_time=end)


@contextmanager
def client_span(method: str, url: str, headers: dict[str, str]) -> Iterator[None]:
    """A CLIENT span around a page's API call; its context goes out in ``headers`` (``traceparent``)."""
    ensure_tracer_provider()
    carrier: dict[str, str] = {}
    parent = propagate.extract({k.lower(): v for k, v in headers.items()})
    with trace.get_tracer(INSTRUMENTATION).start_as_current_span(
        "fluxlit.page.api_call", context=parent, kind=SpanKind.CLIENT, attributes={"http.request.method": method, "url.full": url}
    ):
        propagate.inject(carrier)
        headers.update(carrier)
        yield
