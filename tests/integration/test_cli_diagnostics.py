"""`fluxlit doctor` and `fluxlit config` as subprocesses: rows, warning codes, sources, redaction, exit codes."""

import json
import os
import re
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest

from tests.conftest import DEMO
from tests.support.processes import free_port, run_cli

pytestmark = pytest.mark.integration

DOCUMENTED_ROWS = {
    "dependencies",
    "streamlit_version",
    "import_target",
    "gateway_bind",
    "internal_api_base",
    "fluxlit_metrics_extra",
    "root_path",
    "public_base_url",
    "public_base_url_precedence",
    "forwarded_allow_ips",
    "gateway_forward_rejected_names",
    "gateway_upstream_timeouts",
    "gateway_max_body_unlimited_trust_proxy",
    "fluxlit_auth_extra",
    "compiled_kernels",
}

# Each of these is a warning on its own; together they exercise every proxy-posture check at once.
RISKY = {
    "FLUXLIT_ROOT_PATH": "/apps/demo",
    "FLUXLIT_FORWARDED_ALLOW_IPS": "0.0.0.0/0",
    "FLUXLIT_GATEWAY_MAX_PROXY_REQUEST_BODY_BYTES": "0",
    "FLUXLIT_GATEWAY_UPSTREAM_READ_TIMEOUT_S": "2",
    "FLUXLIT_GATEWAY_FORWARD_CLIENT_HEADERS_TO_STREAMLIT": "x-team,authorization,cookie,x-original-url",
    "FLUXLIT_PUBLIC_BASE_URL": "https://apps.example.com/elsewhere",
}
RISKY_ROWS = {
    "public_base_url",
    "forwarded_allow_ips",
    "gateway_max_body_unlimited_trust_proxy",
    "gateway_upstream_timeouts",
    "gateway_forward_rejected_names",
}
RISKY_CODES = {
    "public_base_url_path_mismatch",
    "forwarded_allow_ips_broad",
    "gateway_max_body_unlimited_trust_proxy",
    "gateway_upstream_read_timeout_short",
    "gateway_forward_blocked_names",
}


def doctor(*args: str, cwd: Path = DEMO, env: dict[str, str] | None = None) -> tuple[subprocess.CompletedProcess[str], dict]:
    """``fluxlit doctor --json`` on a free port; the process and its parsed output."""
    result = run_cli("doctor", "--json", *args, cwd=cwd, env={"FLUXLIT_GATEWAY_PORT": str(free_port()), **(env or {})})
    return result, json.loads(result.stdout)


def rows(report: dict) -> dict[str, dict]:
    return {check["name"]: check for check in report["checks"]}


def config_json(*args: str, cwd: Path = DEMO, env: dict[str, str] | None = None) -> tuple[subprocess.CompletedProcess[str], dict]:
    result = run_cli("config", "--json", *args, cwd=cwd, env=env)
    return result, json.loads(result.stdout)


def test_doctor_passes_the_demo_with_every_documented_row() -> None:
    result, report = doctor()
    assert result.returncode == 0, result.stdout + result.stderr
    assert set(report) == {"status", "target", "checks"}
    assert report["target"] == "app:app" and report["status"] in ("pass", "warn")
    assert DOCUMENTED_ROWS <= set(rows(report))
    for check in report["checks"]:
        assert set(check) == {"name", "status", "detail"} and check["status"] in ("PASS", "WARN")
    assert rows(report)["import_target"]["detail"].startswith(f"app:app from {DEMO / 'app.py'}")


def test_doctor_prints_a_table_with_a_summary() -> None:
    result = run_cli("doctor", cwd=DEMO, env={"FLUXLIT_GATEWAY_PORT": str(free_port())})
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.strip().splitlines()
    table = {line.split()[0]: line.split()[1] for line in lines[:-1]}
    assert DOCUMENTED_ROWS <= set(table) and set(table.values()) <= {"PASS", "WARN"}
    assert lines[-1].startswith("doctor: ") and lines[-1].endswith("0 FAIL")


def test_doctor_fails_when_the_target_cannot_be_imported() -> None:
    result, report = doctor("nosuch_module:app")
    assert result.returncode == 1
    assert report["status"] == "fail"
    assert rows(report)["import_target"]["status"] == "FAIL" and "nosuch_module" in rows(report)["import_target"]["detail"]


def test_risky_proxy_settings_warn_and_strict_turns_them_into_failures() -> None:
    env = {**RISKY, "FLUXLIT_TRUST_PROXY": "1"}
    result, report = doctor(env=env)
    assert result.returncode == 0, result.stdout
    assert report["status"] == "warn"
    assert {name for name, row in rows(report).items() if row["status"] == "WARN"} >= RISKY_ROWS
    assert "authorization (carries credentials)" in rows(report)["gateway_forward_rejected_names"]["detail"]
    assert "x-original-url (rewrites the path or claims a client address)" in rows(report)["gateway_forward_rejected_names"]["detail"]

    strict, strict_report = doctor("--strict", env=env)
    assert strict.returncode == 1
    assert {name for name, row in rows(strict_report).items() if row["status"] == "FAIL"} >= RISKY_ROWS


def test_subpath_without_proxy_trust_warns() -> None:
    result, report = doctor(env={"FLUXLIT_ROOT_PATH": "/apps/demo"})
    assert result.returncode == 0
    row = rows(report)["root_path"]
    assert row["status"] == "WARN" and "FLUXLIT_TRUST_PROXY is off" in row["detail"]


def test_warnings_only_shows_just_the_warn_and_fail_rows() -> None:
    env = {"FLUXLIT_GATEWAY_UPSTREAM_READ_TIMEOUT_S": "1", "FLUXLIT_GATEWAY_PORT": str(free_port())}
    result = run_cli("doctor", "--warnings-only", cwd=DEMO, env=env)
    assert result.returncode == 0
    lines = result.stdout.strip().splitlines()
    assert [line.split()[:2] for line in lines[:-1]] == [["gateway_upstream_timeouts", "WARN"]]
    assert lines[-1].endswith("1 WARN, 0 FAIL")
    _, report = doctor("--warnings-only", env=env)
    assert [check["name"] for check in report["checks"]] == ["gateway_upstream_timeouts"]


def test_internal_api_base_outside_the_api_prefix_fails_doctor_and_config() -> None:
    env = {"FLUXLIT_INTERNAL_API_BASE": "http://127.0.0.1:8000/v1"}
    result, report = doctor(env=env)
    assert result.returncode == 1
    assert rows(report)["internal_api_base"]["status"] == "FAIL" and "'/v1'" in rows(report)["internal_api_base"]["detail"]
    config, payload = config_json(env=env)
    assert config.returncode == 1, "an error-level warning fails config even without --strict"
    assert [(w["level"], w["code"]) for w in payload["warnings"]] == [("error", "internal_api_base_mismatch")]


def test_internal_api_base_on_the_api_prefix_passes() -> None:
    _, report = doctor(env={"FLUXLIT_ROOT_PATH": "/apps/x", "FLUXLIT_TRUST_PROXY": "1", "FLUXLIT_INTERNAL_API_BASE": "http://127.0.0.1:8000/apps/x/api"})
    assert rows(report)["internal_api_base"]["status"] == "PASS"


def test_metrics_without_prometheus_client_fail_the_extra_row(tmp_path: Path) -> None:
    # A package that cannot be imported stands where prometheus-client would be.
    (tmp_path / "prometheus_client").mkdir()
    (tmp_path / "prometheus_client" / "__init__.py").write_text("raise ImportError('prometheus-client is not installed')\n")
    path = os.pathsep.join(filter(None, [str(tmp_path), os.environ.get("PYTHONPATH")]))
    result, report = doctor(env={"FLUXLIT_ENABLE_GATEWAY_PROMETHEUS_METRICS": "1", "PYTHONPATH": path})
    assert result.returncode == 1
    row = rows(report)["fluxlit_metrics_extra"]
    assert row["status"] == "FAIL" and "pip install 'fluxlit[metrics]'" in row["detail"]


def test_conflicting_public_base_urls_warn_and_fail_with_the_strict_setting() -> None:
    env = {"FLUXLIT_PUBLIC_BASE_URL": "https://a.example.com", "PUBLIC_BASE_URL": "https://b.example.com"}
    result, report = doctor(env=env)
    assert result.returncode == 0 and rows(report)["public_base_url_precedence"]["status"] == "WARN"
    strict, strict_report = doctor(env={**env, "FLUXLIT_STRICT_PUBLIC_BASE_URL": "1"})
    assert strict.returncode == 1 and rows(strict_report)["public_base_url_precedence"]["status"] == "FAIL"


def test_plain_public_base_url_alone_is_used_without_warning() -> None:
    result, report = doctor(env={"PUBLIC_BASE_URL": "https://b.example.com"})
    assert result.returncode == 0 and rows(report)["public_base_url_precedence"]["status"] == "PASS"
    _, payload = config_json(env={"PUBLIC_BASE_URL": "https://b.example.com"})
    assert payload["settings"]["public_base_url"] == {"value": "https://b.example.com", "source": "env"}


def test_compiled_kernels_row_names_the_twin_in_use() -> None:
    _, pure = doctor(env={"FLUXLIT_PURE_PYTHON": "1"})
    assert rows(pure)["compiled_kernels"] == {
        "name": "compiled_kernels",
        "status": "PASS",
        "detail": "pure-Python kernels, as FLUXLIT_PURE_PYTHON requests",
    }
    _, compiled = doctor(env={"FLUXLIT_PURE_PYTHON": "0"})
    assert rows(compiled)["compiled_kernels"]["detail"] == "compiled kernels loaded"


def test_gateway_bind_warns_when_the_port_is_taken() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        result, report = doctor(env={"FLUXLIT_GATEWAY_PORT": str(busy.getsockname()[1])})
    assert result.returncode == 0
    assert rows(report)["gateway_bind"]["status"] == "WARN" and "already in use" in rows(report)["gateway_bind"]["detail"]


def test_invalid_setting_is_a_failed_row_naming_it() -> None:
    result = run_cli("doctor", "--json", cwd=DEMO, env={"FLUXLIT_GATEWAY_UPSTREAM_READ_TIMEOUT_S": "soon"})
    assert result.returncode == 1
    settings_row = rows(json.loads(result.stdout))["settings"]
    assert settings_row["status"] == "FAIL" and "FLUXLIT_GATEWAY_UPSTREAM_READ_TIMEOUT_S='soon'" in settings_row["detail"]


def test_config_json_gives_each_setting_its_value_and_source(tmp_path: Path) -> None:
    shutil.copy(DEMO / "app.py", tmp_path / "app.py")
    (tmp_path / "fluxlit.toml").write_text('target = "app:app"\ngateway_port = 9000\nroot_path = "/apps/demo"\ntrust_proxy = true\n')
    result, payload = config_json(cwd=tmp_path, env={"FLUXLIT_GATEWAY_PORT": "9123"})
    assert result.returncode == 0, result.stderr
    assert set(payload) == {"target", "app", "project_file", "settings", "warnings"}
    assert payload["target"] == "app:app" and payload["project_file"] == str(tmp_path / "fluxlit.toml")
    settings = payload["settings"]
    assert settings["gateway_port"] == {"value": 9123, "source": "env"}
    assert settings["root_path"] == {"value": "/apps/demo", "source": "project file"}
    assert settings["trust_proxy"] == {"value": True, "source": "project file"}
    assert settings["gateway_host"] == {"value": "127.0.0.1", "source": "default"}
    assert all(set(entry) == {"value", "source"} for entry in settings.values())
    assert payload["warnings"] == []


def test_config_redacts_credentials_in_text_and_json() -> None:
    env = {"FLUXLIT_STREAMLIT_UPSTREAM": "http://user:hunter2@127.0.0.1:9"}
    text = run_cli("config", cwd=DEMO, env=env)
    assert text.returncode == 0 and "hunter2" not in text.stdout
    line = next(line for line in text.stdout.splitlines() if line.startswith("streamlit_upstream "))
    assert line.split() == ["streamlit_upstream", "http://***@127.0.0.1:9", "env"]
    _, payload = config_json(env=env)
    assert payload["settings"]["streamlit_upstream"] == {"value": "http://***@127.0.0.1:9", "source": "env"}


def test_config_reports_warning_codes_and_strict_exits_1() -> None:
    env = {**RISKY, "FLUXLIT_TRUST_PROXY": "1"}
    result, payload = config_json(env=env)
    assert result.returncode == 0
    assert {w["code"] for w in payload["warnings"]} == RISKY_CODES
    assert all(set(w) == {"level", "code", "message"} and w["level"] == "warning" for w in payload["warnings"])
    strict = run_cli("config", "--strict", cwd=DEMO, env=env)
    assert strict.returncode == 1
    assert "WARNING forwarded_allow_ips_broad:" in strict.stdout


def test_config_warns_about_a_subpath_without_proxy_trust() -> None:
    _, payload = config_json(env={"FLUXLIT_ROOT_PATH": "/apps/demo"})
    assert [w["code"] for w in payload["warnings"]] == ["subpath_without_trust_proxy"]


def test_check_pages_resolves_every_page_and_names_the_async_dependencies() -> None:
    result, report = doctor("--check-pages")
    assert result.returncode == 0, result.stdout + result.stderr
    pages = rows(report)["pages_validate"]
    assert pages["status"] == "PASS"
    assert "/team (st←st, user←current_user(), filters←query_model, roster←fetch_roster())" in pages["detail"]
    assert "/ (st←st, client←client)" in pages["detail"]
    async_row = rows(report)["async_depends_streamlit"]
    assert async_row["status"] == "PASS" and async_row["detail"].startswith("fetch_roster run on FluxLit's page event loop thread")
    _, plain = doctor()
    assert "pages_validate" not in rows(plain)


def test_a_page_that_asks_for_what_cannot_be_injected_fails_the_import_row(tmp_path: Path) -> None:
    (tmp_path / "badpages.py").write_text(
        "from fluxlit import FluxLit\napp = FluxLit()\n\n@app.page('/')\ndef home(st, user):\n    st.write(user)\n"
    )
    result, report = doctor("badpages:app", "--check-pages", cwd=tmp_path)
    assert result.returncode == 1
    detail = rows(report)["import_target"]["detail"]
    assert "raised PageError: page '/': home() asks for 'user', which FluxLit cannot provide" in detail


def test_test_page_overrides_warn_and_fail_when_they_cannot_be_imported() -> None:
    result, report = doctor(env={"FLUXLIT_TEST_PAGE_OVERRIDES": '{"app.fetch_roster": "test_app.fake_roster"}'})
    assert result.returncode == 0
    row = rows(report)["test_page_overrides"]
    assert row["status"] == "WARN" and "app.fetch_roster -> test_app.fake_roster" in row["detail"]
    result, report = doctor(env={"FLUXLIT_TEST_PAGE_OVERRIDES": '{"app.fetch_roster": "test_app.missing"}'})
    assert result.returncode == 1
    assert "names the fake 'test_app.missing', which cannot be imported" in rows(report)["test_page_overrides"]["detail"]


def test_check_pages_warns_when_the_allowlist_keeps_a_declared_header_from_pages() -> None:
    result, report = doctor("--check-pages", env={"FLUXLIT_GATEWAY_FORWARD_CLIENT_HEADERS_TO_STREAMLIT": "x-tenant"})
    assert result.returncode == 0, result.stdout + result.stderr
    row = rows(report)["page_headers"]
    assert row["status"] == "WARN"
    assert row["detail"] == (
        "header x-remote-user (/team) never reaches the page: "
        "it is not on FLUXLIT_GATEWAY_FORWARD_CLIENT_HEADERS_TO_STREAMLIT; add it there"
    )


def test_doctor_checks_the_configured_issuer_and_the_clock_against_it() -> None:
    from tests.support.jwks_server import JWKSServer

    with JWKSServer() as issuer:
        result, report = doctor(env={"FLUXLIT_JWT_ISSUER": "https://issuer.test", "FLUXLIT_JWT_JWKS_URL": issuer.url})
    assert result.returncode == 0, result.stdout
    assert rows(report)["fluxlit_auth_extra"]["detail"].endswith("auth configured by FLUXLIT_JWT_ISSUER, FLUXLIT_JWT_JWKS_URL")
    assert rows(report)["auth_issuer_reachable"] == {"name": "auth_issuer_reachable", "status": "PASS", "detail": f"{issuer.url} answered 200"}
    assert rows(report)["jwt_clock_skew"]["status"] == "PASS"
    result, report = doctor(env={"FLUXLIT_JWT_JWKS_URL": f"http://127.0.0.1:{free_port()}/jwks"})
    assert result.returncode == 1 and "did not answer (ConnectError" in rows(report)["auth_issuer_reachable"]["detail"]


def test_doctor_warns_when_this_clock_is_off_the_issuers() -> None:
    import threading
    from email.utils import formatdate
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Late(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            self.send_response_only(200)
            self.send_header("Date", formatdate(time.time() + 600, usegmt=True))
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Late)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        _, report = doctor(env={"FLUXLIT_OIDC_ISSUER": f"http://127.0.0.1:{server.server_address[1]}"})
    finally:
        server.shutdown()
        server.server_close()
    row = rows(report)["jwt_clock_skew"]
    assert row["status"] == "WARN" and re.search(r"this clock is -(59\d|60\d) s off the issuer's", row["detail"]), row
    assert "FLUXLIT_JWT_LEEWAY_SECONDS" in row["detail"]


def test_secrets_are_shown_as_a_redaction_marker_never_in_clear() -> None:
    secrets = {
        "FLUXLIT_OIDC_CLIENT_SECRET": "client-s3cret",
        "FLUXLIT_OIDC_BFF_SECRET": "bff-s3cret-0123456789abcdef0123456789",
        "FLUXLIT_JWT_HS256_SECRET": "hs-s3cret-0123456789abcdef0123456789",
        "FLUXLIT_REDIS_URL": "redis://:redis-s3cret@127.0.0.1:6379/0",
    }
    result, payload = config_json(env=secrets)
    for value in ("client-s3cret", "bff-s3cret", "hs-s3cret", "redis-s3cret"):
        assert value not in result.stdout + result.stderr
    settings = payload["settings"]
    assert settings["oidc_client_secret"]["value"] == settings["jwt_hs256_secret"]["value"] == "***"
    assert settings["redis_url"]["value"] == "redis://***@127.0.0.1:6379/0"


@pytest.mark.parametrize("command", ["doctor", "run", "config"])
def test_a_bad_kernel_choice_is_one_line_and_exit_2(command: str) -> None:
    result = run_cli(command, cwd=DEMO, env={"FLUXLIT_PURE_PYTHON": "maybe"})
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.splitlines() == [
        "fluxlit: FLUXLIT_PURE_PYTHON='maybe' is not a boolean; use 1/true/yes/on for the pure-Python kernels "
        "or 0/false/no/off (or leave it unset) for the compiled ones"
    ]


def test_a_bad_kernel_choice_is_one_line_under_python_m_too() -> None:
    import sys

    result = subprocess.run(
        [sys.executable, "-m", "fluxlit", "doctor"], cwd=DEMO, env={**os.environ, "FLUXLIT_PURE_PYTHON": "maybe"}, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.startswith("fluxlit: FLUXLIT_PURE_PYTHON='maybe' is not a boolean")


def test_config_shows_the_values_the_app_sets_in_code() -> None:
    result, payload = config_json()
    assert result.returncode == 0, result.stderr
    assert payload["app"] == {"imported": True}
    assert payload["settings"]["title"] == {"value": "FluxLit demo", "source": "app"}
    text = run_cli("config", cwd=DEMO).stdout
    assert re.search(r"^title\s+FluxLit demo\s+app$", text, re.MULTILINE), text


def test_config_of_a_target_that_does_not_import_shows_the_environment_and_says_why() -> None:
    result, payload = config_json("nosuch_module:app", env={"FLUXLIT_TITLE": "From env"})
    assert result.returncode == 0, result.stderr
    assert payload["app"]["imported"] is False and "nosuch_module" in payload["app"]["error"]
    assert payload["settings"]["title"] == {"value": "From env", "source": "env"}
