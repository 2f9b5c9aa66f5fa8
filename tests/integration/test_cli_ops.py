"""Operator flags on run/dev/workbench, the pid file and `fluxlit shutdown`, against real processes."""

import os
import re
import shutil
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import DEMO, Gateway, start_gateway
from tests.integration.test_lifecycle import streamlit_children, wait_gone
from tests.support.processes import Proc, fluxlit, free_port, run_cli

pytestmark = pytest.mark.integration


def serve(command: str, cwd: Path, *args: str, env: dict[str, str] | None = None, ready: str = "/api/readyz") -> Gateway:
    """``fluxlit <command>`` on a free port, returned once ``ready`` answers 200."""
    port = free_port()
    gateway = Gateway(fluxlit(command, *args, "--port", str(port), cwd=cwd, env=env), port)
    try:
        gateway.proc.wait_http(gateway.url + ready, timeout=90)
    except BaseException:
        gateway.proc.stop()
        raise
    return gateway


def demo_copy(directory: Path) -> Path:
    """The demo app in a directory of its own, so its default pid file is private to the test."""
    shutil.copy(DEMO / "app.py", directory / "app.py")
    return directory


def child_env(gateway: Gateway) -> dict[str, str]:
    """The environment the gateway gave its Streamlit child."""
    return streamlit_children(gateway)[0].environ()


def test_shutdown_stops_a_running_server_and_its_streamlit_child(tmp_path: Path) -> None:
    pidfile = tmp_path / "server.pid"
    gateway = start_gateway(DEMO, "--pidfile", str(pidfile))
    try:
        assert pidfile.read_text().strip() == str(gateway.proc.pid)
        children = streamlit_children(gateway)
        result = run_cli("shutdown", "--pidfile", str(pidfile), "--wait", "30", cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        assert f"stopped FluxLit server (pid {gateway.proc.pid})" in result.stdout
        assert gateway.proc.wait(10) == 0, gateway.proc.output()
        wait_gone(children, timeout=5)
        assert not pidfile.exists()
    finally:
        gateway.proc.stop()


def test_dev_writes_the_default_pidfile_and_shutdown_finds_it(tmp_path: Path) -> None:
    project = demo_copy(tmp_path)
    gateway = serve("dev", project, "--no-proxy-headers", env={"FLUXLIT_TRUST_PROXY": "1"})
    try:
        assert (project / ".fluxlit.pid").read_text().strip() == str(gateway.proc.pid)
        assert child_env(gateway)["FLUXLIT_TRUST_PROXY"] == "0", "--no-proxy-headers must beat FLUXLIT_TRUST_PROXY=1"
        result = run_cli("shutdown", "--wait", "30", cwd=project)
        assert result.returncode == 0, result.stderr
        assert gateway.proc.wait(10) == 0, gateway.proc.output()
        assert not (project / ".fluxlit.pid").exists()
    finally:
        gateway.proc.stop()


def test_run_flags_reach_the_streamlit_child_and_beat_the_environment(tmp_path: Path) -> None:
    env = {"FLUXLIT_TRUST_PROXY": "0", "FLUXLIT_LOG_LEVEL": "debug", "FLUXLIT_FORWARDED_ALLOW_IPS": "192.0.2.1"}
    flags = ["--proxy-headers", "--forwarded-allow-ips", "10.0.0.0/8,127.0.0.1", "--debug", "--log-level", "warning"]
    gateway = start_gateway(DEMO, *flags, "--pidfile", str(tmp_path / "run.pid"), env=env)
    try:
        seen = child_env(gateway)
        assert seen["FLUXLIT_TRUST_PROXY"] == "1"
        assert seen["FLUXLIT_FORWARDED_ALLOW_IPS"] == "10.0.0.0/8,127.0.0.1"
        assert seen["FLUXLIT_DEBUG"] == "1"
        assert seen["FLUXLIT_LOG_LEVEL"] == "warning"
        assert seen["FLUXLIT_PIDFILE"] == str(tmp_path / "run.pid")
    finally:
        gateway.proc.stop()


def test_workbench_prints_prefixed_loopback_urls_and_trusts_proxy_headers(tmp_path: Path) -> None:
    project = demo_copy(tmp_path)
    env = {"FLUXLIT_ROOT_PATH": "/apps/wb"}
    gateway = serve("workbench", project, "--no-pidfile", env=env, ready="/apps/wb/api/readyz")
    try:
        output = gateway.proc.output()
        assert "workbench mode: proxy headers on" in output and "root path /apps/wb" in output
        assert f"http://127.0.0.1:{gateway.port}/apps/wb/" in output
        healthz = re.search(r"healthz\s+(\S+)", output)
        docs = re.search(r"API docs\s+(\S+)", output)
        assert healthz and docs, output
        assert httpx.get(healthz.group(1)).json() == {"status": "ok"}
        assert httpx.get(docs.group(1)).status_code == 200
        assert child_env(gateway)["FLUXLIT_TRUST_PROXY"] == "1"
        assert not (project / ".fluxlit.pid").exists(), "--no-pidfile wrote a pid file"
    finally:
        gateway.proc.stop()


def test_bad_forwarded_allow_ips_flag_fails_naming_the_setting() -> None:
    result = run_cli("run", "--forwarded-allow-ips", "not-an-ip", "--port", str(free_port()), cwd=DEMO)
    assert result.returncode == 2
    assert "FLUXLIT_FORWARDED_ALLOW_IPS='not-an-ip'" in result.stderr and "not an IP address or CIDR" in result.stderr


def test_shutdown_without_a_pidfile_exits_2_and_says_where_it_looked(tmp_path: Path) -> None:
    result = run_cli("shutdown", cwd=tmp_path)
    assert result.returncode == 2
    assert str(tmp_path / ".fluxlit.pid") in result.stderr and "--pidfile" in result.stderr


def test_shutdown_with_pid_files_disabled_exits_2(tmp_path: Path) -> None:
    result = run_cli("shutdown", cwd=tmp_path, env={"FLUXLIT_PIDFILE": ""})
    assert result.returncode == 2 and "pid files are disabled" in result.stderr


def test_stale_pidfile_of_an_exited_process_is_removed(tmp_path: Path) -> None:
    exited = Proc([sys.executable, "-c", "pass"], cwd=tmp_path)
    exited.wait(30)
    exited.stop()
    pidfile = tmp_path / "gone.pid"
    pidfile.write_text(f"{exited.pid}\n")
    result = run_cli("shutdown", "--pidfile", str(pidfile), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert f"stale pid file {pidfile}: process {exited.pid} is not running; removed it" in result.stdout
    assert not pidfile.exists()


def test_pidfile_pointing_at_an_unrelated_process_never_signals_it(tmp_path: Path) -> None:
    stranger = Proc([sys.executable, "-c", "import time; time.sleep(120)"], cwd=tmp_path)
    try:
        pidfile = tmp_path / "reused.pid"
        pidfile.write_text(f"{stranger.pid}\n")
        result = run_cli("shutdown", "--pidfile", str(pidfile), "--force", "--wait", "0.5", cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        assert "not a FluxLit server" in result.stdout and "left that process alone" in result.stdout
        assert stranger.popen.poll() is None, "shutdown signalled a process that is not FluxLit"
        assert not pidfile.exists()
    finally:
        stranger.stop()


def test_pidfile_without_a_process_id_is_removed(tmp_path: Path) -> None:
    pidfile = tmp_path / "junk.pid"
    pidfile.write_text("not a pid\n")
    result = run_cli("shutdown", "--pidfile", str(pidfile), cwd=tmp_path)
    assert result.returncode == 0 and "did not hold a process id" in result.stdout
    assert not pidfile.exists()


def _stubborn_server(directory: Path) -> Proc:
    """A process whose command line is `fluxlit run` but which ignores SIGTERM, like a hung server."""
    script = directory / "fluxlit"
    script.write_text(
        "import signal, sys, time\n"
        "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
        "print('ignoring SIGTERM', flush=True)\n"
        "time.sleep(120)\n"
    )
    proc = Proc([sys.executable, str(script), "run"], cwd=directory)
    deadline = time.monotonic() + 30
    while "ignoring SIGTERM" not in proc.output():
        if proc.popen.poll() is not None or time.monotonic() > deadline:
            proc.stop()
            raise AssertionError(f"stand-in server never started:\n{proc.output()}")
        time.sleep(0.05)
    return proc


def test_shutdown_reports_a_server_that_ignores_sigterm_and_force_kills_it(tmp_path: Path) -> None:
    server = _stubborn_server(tmp_path)
    try:
        pidfile = tmp_path / "stubborn.pid"
        pidfile.write_text(f"{server.pid}\n")
        polite = run_cli("shutdown", "--pidfile", str(pidfile), "--wait", "0.5", cwd=tmp_path)
        assert polite.returncode == 1
        assert f"pid {server.pid} is still running" in polite.stderr and "--force" in polite.stderr
        assert server.popen.poll() is None and pidfile.exists()
        forced = run_cli("shutdown", "--pidfile", str(pidfile), "--wait", "0.5", "--force", cwd=tmp_path)
        assert forced.returncode == 0, forced.stderr
        assert "killed it with SIGKILL" in forced.stdout
        assert server.popen.wait(10) == -9
        assert not pidfile.exists()
    finally:
        server.stop()


def test_unwritable_pidfile_is_a_warning_and_the_server_still_serves() -> None:
    gateway = start_gateway(DEMO, "--pidfile", "/proc/fluxlit-test/server.pid")
    try:
        assert "cannot write pid file /proc/fluxlit-test/server.pid" in gateway.proc.output()
        assert httpx.get(gateway.url + "/api/hello").json() == {"hello": "world"}
    finally:
        gateway.proc.stop()


def test_version_flag_and_version_command_report_what_runs() -> None:
    from fluxlit import __version__

    short = run_cli("--version", cwd=DEMO)
    assert (short.returncode, short.stdout) == (0, f"fluxlit {__version__}\n")
    report = run_cli("version", cwd=DEMO, env={"FLUXLIT_GATEWAY_LANE": "asgi"})
    lines = dict(line.split(" ", 1) for line in report.stdout.splitlines())
    assert report.returncode == 0 and list(lines) == ["fluxlit", "python", "uvloop", "httptools", "streamlit", "fastapi", "lane", "kernels"]
    assert lines["fluxlit"] == __version__ and lines["lane"] == "asgi"
    assert lines["kernels"] == ("pure" if os.environ.get("FLUXLIT_PURE_PYTHON") == "1" else "compiled")


@pytest.mark.parametrize("command", ["run", "dev", "workbench", "doctor", "config", "build", "shutdown", "new", "version"])
def test_help_fits_80_columns_and_cuts_nothing(command: str) -> None:
    result = run_cli(command, "--help", cwd=DEMO, env={"COLUMNS": "80"})
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"Usage: fluxlit {command}")
    assert max(len(line) for line in lines) <= 80 and "…" not in result.stdout, result.stdout
    assert "<bool>" not in result.stdout
