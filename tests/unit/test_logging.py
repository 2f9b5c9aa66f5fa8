"""JsonLogFormatter, header and query redaction, and the gateway metrics' counters."""

import json
import logging
import sys

import pytest

from fluxlit.logging import JsonLogFormatter, is_sensitive_header, redact, redact_query_string
from fluxlit.metrics import GatewayMetrics, note_body_limit_rejected, note_upstream_error, status_class


def record(message: str, *args: object, exc_info: object = None, **extra: object) -> logging.LogRecord:
    return logging.getLogger("fluxlit.test").makeRecord("fluxlit.test", logging.WARNING, __file__, 1, message, args, exc_info, extra=extra)


def test_json_formatter_writes_one_object_with_base_and_extra_fields() -> None:
    line = JsonLogFormatter().format(record("GET %s -> %d", "/x", 200, request_id="r-1", status=200, duration_ms=1.5))
    entry = json.loads(line)
    assert entry["level"] == "WARNING" and entry["logger"] == "fluxlit.test" and entry["message"] == "GET /x -> 200"
    assert entry["time"].endswith("Z") and entry["time"][10] == "T"
    assert (entry["request_id"], entry["status"], entry["duration_ms"]) == ("r-1", 200, 1.5)
    assert not {"args", "msg", "levelno", "pathname", "exc_info"} & set(entry)


def test_json_formatter_keeps_multiline_messages_and_exceptions_on_one_line() -> None:
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        rec = record("first\nsecond", exc_info=sys.exc_info())
    line = JsonLogFormatter().format(rec)
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["message"] == "first\nsecond"
    assert "RuntimeError: boom" in entry["exception"] and "Traceback" in entry["exception"]


def test_json_formatter_base_fields_win_and_odd_values_become_text() -> None:
    entry = json.loads(JsonLogFormatter().format(record("m", level="spoofed", logger="spoofed", peer=("127.0.0.1", 5), blob=object())))
    assert entry["level"] == "WARNING" and entry["logger"] == "fluxlit.test"
    assert entry["peer"] == ["127.0.0.1", 5] and entry["blob"].startswith("<object object")


@pytest.mark.parametrize(
    "name",
    ["Authorization", "cookie", "Set-Cookie", "proxy-authorization", "X-Api-Key", "x-auth-token", "X-Client-Secret", "x-session-id", b"cookie"],
)
def test_credential_headers_are_sensitive(name: str | bytes) -> None:
    assert is_sensitive_header(name)


@pytest.mark.parametrize("name", ["content-type", "x-request-id", "host", "user-agent", b"accept"])
def test_ordinary_headers_are_not_sensitive(name: str | bytes) -> None:
    assert not is_sensitive_header(name)


def test_redact_masks_credential_values_in_a_mapping() -> None:
    headers = {"Authorization": "Bearer abc", "Cookie": "sid=1", "X-Api-Key": "k", "Accept": "text/html"}
    assert redact(headers) == {"Authorization": "***", "Cookie": "***", "X-Api-Key": "***", "Accept": "text/html"}
    assert headers["Authorization"] == "Bearer abc"


def test_redact_keeps_order_repeats_and_bytes_in_a_raw_header_list() -> None:
    raw = [(b"host", b"a"), (b"set-cookie", b"a=1"), (b"set-cookie", b"b=2"), (b"x-request-id", b"r")]
    assert redact(raw) == [(b"host", b"a"), (b"set-cookie", b"***"), (b"set-cookie", b"***"), (b"x-request-id", b"r")]


def test_redact_query_string_masks_default_keys_and_keeps_the_rest_as_received() -> None:
    query = "fluxlit_sid=s1&q=a%20b&auth_code=c2&TOKEN=t3&flag&code=c4"
    assert redact_query_string(query) == "fluxlit_sid=***&q=a%20b&auth_code=***&TOKEN=***&flag&code=***"


def test_redact_query_string_matches_percent_encoded_keys_and_accepts_bytes() -> None:
    assert redact_query_string(b"fluxlit%5Fsid=s1&x=1") == "fluxlit%5Fsid=***&x=1"
    assert redact_query_string("") == ""


def test_redact_query_string_uses_the_keys_it_is_given() -> None:
    assert redact_query_string("sid=1&token=2", sensitive_keys=["sid"]) == "sid=***&token=2"


@pytest.mark.parametrize(("status", "label"), [(101, "1xx"), (200, "2xx"), (304, "3xx"), (413, "4xx"), (499, "4xx"), (502, "5xx"), (999, "5xx")])
def test_status_class_is_bounded(status: int, label: str) -> None:
    assert status_class(status) == label


def test_proxy_hooks_count_on_the_metrics_bound_to_the_request() -> None:
    metrics = GatewayMetrics()
    note_body_limit_rejected()  # nothing bound: a no-op, not an error
    token = metrics.bind()
    try:
        note_body_limit_rejected()
        note_upstream_error()
        note_upstream_error()
    finally:
        metrics.unbind(token)
    note_upstream_error()
    value = metrics.registry.get_sample_value
    assert value("fluxlit_gateway_body_limit_rejections_total") == 1
    assert value("fluxlit_gateway_upstream_errors_total") == 2


def test_each_gateway_has_its_own_registry() -> None:
    first, second = GatewayMetrics(), GatewayMetrics()
    first.request_finished("api", "2xx", 0.01)
    labels = {"dispatch": "api", "status_class": "2xx"}
    assert first.registry.get_sample_value("fluxlit_gateway_requests_total", labels) == 1
    assert second.registry.get_sample_value("fluxlit_gateway_requests_total", labels) == 0
    assert second.registry.get_sample_value("fluxlit_gateway_requests_total", {"dispatch": "ops", "status_class": "5xx"}) == 0
    body, content_type = first.render()
    assert content_type.startswith("text/plain") and b'fluxlit_gateway_request_duration_seconds_count{dispatch="api",status_class="2xx"} 1.0' in body
