"""A real OTLP/HTTP trace receiver on a loopback port: decodes what exporters POST to /v1/traces and keeps the spans."""

import contextlib
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest, ExportTraceServiceResponse


@dataclass
class Received:
    """Spans as ``{name, trace_id, span_id, parent_span_id, kind, attributes, service}`` dicts."""

    spans: list[dict] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def wait_for(self, predicate, what: str, timeout: float = 30.0) -> list[dict]:
        """The spans matching ``predicate`` once there is at least one (fails after ``timeout``)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                found = [span for span in self.spans if predicate(span)]
            if found:
                return found
            time.sleep(0.05)
        raise AssertionError(f"no span {what} arrived; got {[s['name'] for s in self.spans]}")


def _value(any_value) -> object:
    kind = any_value.WhichOneof("value")
    return getattr(any_value, kind) if kind else None


@contextlib.contextmanager
def otlp_receiver() -> Iterator[tuple[str, Received]]:
    """Serve until the block exits; yields the endpoint for ``OTEL_EXPORTER_OTLP_ENDPOINT`` and the spans."""
    received = Received()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            request = ExportTraceServiceRequest()
            request.ParseFromString(self.rfile.read(int(self.headers["Content-Length"])))
            with received.lock:
                for resource_spans in request.resource_spans:
                    service = {a.key: _value(a.value) for a in resource_spans.resource.attributes}.get("service.name")
                    for scope_spans in resource_spans.scope_spans:
                        for span in scope_spans.spans:
                            received.spans.append(
                                {
                                    "name": span.name,
                                    "trace_id": span.trace_id.hex(),
                                    "span_id": span.span_id.hex(),
                                    "parent_span_id": span.parent_span_id.hex(),
                                    "kind": span.kind,
                                    "attributes": {a.key: _value(a.value) for a in span.attributes},
                                    "service": service,
                                }
                            )
            body = ExportTraceServiceResponse().SerializeToString()
            self.send_response(200)
            self.send_header("Content-Type", "application/x-protobuf")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", received
    finally:
        server.shutdown()
        server.server_close()
