"""Prometheus metrics for the gateway (optional extra: ``pip install 'fluxlit[metrics]'``).

Labels are bounded: ``dispatch`` is api, streamlit or ops and ``status_class`` is 1xx-5xx or ws,
so no path, method or client ever becomes a label value.
"""

from contextvars import ContextVar, Token

from .settings import SettingsError

DISPATCH_CLASSES = ("api", "streamlit", "ops")
STATUS_CLASSES = ("1xx", "2xx", "3xx", "4xx", "5xx", "ws")
DURATION_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)

_serving: ContextVar["GatewayMetrics | None"] = ContextVar("fluxlit_gateway_metrics", default=None)


def status_class(status: int) -> str:
    """``2xx``-style class of an HTTP status (clamped to 1xx-5xx)."""
    return f"{min(max(status // 100, 1), 5)}xx"


class GatewayMetrics:
    """The gateway's metrics in a registry of their own (never prometheus-client's global default)."""

    def __init__(self) -> None:
        from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
        from prometheus_client import GCCollector, PlatformCollector, ProcessCollector

        self.registry = CollectorRegistry()
        for collector in (ProcessCollector, PlatformCollector, GCCollector):
            collector(registry=self.registry)
        labels = ("dispatch", "status_class")
        self.requests = Counter(
            "fluxlit_gateway_requests", "Requests finished, by destination and status class.", labels, registry=self.registry
        )
        self.duration = Histogram(
            "fluxlit_gateway_request_duration_seconds",
            "Time from request start to its end (WebSockets: the whole connection).",
            labels,
            buckets=DURATION_BUCKETS,
            registry=self.registry,
        )
        self.in_flight = Gauge("fluxlit_gateway_requests_in_flight", "HTTP requests being served now.", registry=self.registry)
        self.websockets = Gauge("fluxlit_gateway_websockets_open", "Accepted WebSocket connections open now.", registry=self.registry)
        self.upstream_errors = Counter(
            "fluxlit_gateway_upstream_errors", "Proxied requests the Streamlit upstream failed (answered 502).", registry=self.registry
        )
        self.body_limit_rejections = Counter(
            "fluxlit_gateway_body_limit_rejections",
            "Proxied requests answered 413 for exceeding FLUXLIT_GATEWAY_MAX_PROXY_REQUEST_BODY_BYTES.",
            registry=self.registry,
        )
        # Request counters exist from the start (a rate over a series that appears late misses its first
        # hit); histogram series appear with their first observation, to keep scrapes small.
        for dispatch in DISPATCH_CLASSES:
            for status in STATUS_CLASSES:
                self.requests.labels(dispatch, status)
        self._series: dict[tuple[str, str], tuple[Counter, Histogram]] = {}

    def request_finished(self, dispatch: str, status: str, duration_s: float) -> None:
        """Count one finished request or WebSocket connection."""
        series = self._series.get((dispatch, status))
        if series is None:
            series = self._series[dispatch, status] = (self.requests.labels(dispatch, status), self.duration.labels(dispatch, status))
        counter, histogram = series
        counter.inc()
        histogram.observe(duration_s)

    def upstream_error(self) -> None:
        """Count a proxied request or WebSocket the Streamlit upstream failed."""
        self.upstream_errors.inc()

    def body_limit_rejected(self) -> None:
        """Count a proxied request answered 413 by the body cap."""
        self.body_limit_rejections.inc()

    def render(self) -> tuple[bytes, str]:
        """The exposition text and its content type."""
        from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

        return generate_latest(self.registry), CONTENT_TYPE_LATEST

    def bind(self) -> Token["GatewayMetrics | None"]:
        """Make these the metrics ``note_*`` functions report to in the current request's context."""
        return _serving.set(self)

    @staticmethod
    def unbind(token: Token["GatewayMetrics | None"]) -> None:
        """Undo ``bind``."""
        _serving.reset(token)


def note_upstream_error() -> None:
    """For proxy code: count an upstream failure on the gateway serving this request (no-op when metrics are off)."""
    if (metrics := _serving.get()) is not None:
        metrics.upstream_error()


def note_body_limit_rejected() -> None:
    """For proxy code: count a 413 body-cap rejection on the gateway serving this request (no-op when metrics are off)."""
    if (metrics := _serving.get()) is not None:
        metrics.body_limit_rejected()


def load_metrics() -> GatewayMetrics:
    """Fresh gateway metrics; ``SettingsError`` naming the fix when prometheus-client is missing."""
    try:
        return GatewayMetrics()
    except ImportError:
        raise SettingsError(
            "FLUXLIT_ENABLE_GATEWAY_PROMETHEUS_METRICS is on but prometheus-client is not installed; "
            "run pip install 'fluxlit[metrics]' or turn the setting off"
        ) from None
