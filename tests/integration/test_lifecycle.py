"""Process lifecycle: readiness after a crash, signals, the child never outliving the gateway, CLI errors."""

import os
import signal
import socket
import sys
import time
from pathlib import Path

import httpx
import psutil
import pytest

from tests.conftest import DEMO, Gateway, running_gateway, start_gateway
from tests.support.processes import BIN, Proc, free_port, run_cli

pytestmark = pytest.mark.integration


def streamlit_children(gateway: Gateway) -> list[psutil.Process]:
    kids = [p for p in gateway.proc.descendants() if "streamlit" in " ".join(p.cmdline())]
    assert kids, f"no Streamlit child under pid {gateway.proc.pid}"
    return kids


def _running(process: psutil.Process) -> bool:
    try:
        return process.status() != psutil.STATUS_ZOMBIE  # a zombie has exited; only its parent's reap is due
    except psutil.NoSuchProcess:
        return False


def wait_gone(processes: list[psutil.Process], timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while (alive := [p.pid for p in processes if _running(p)]) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive, f"still running: {alive}"


def test_readyz_turns_503_when_streamlit_dies_while_healthz_stays_200() -> None:
    gateway = start_gateway()
    try:
        child = streamlit_children(gateway)[0]
        child.kill()
        wait_gone([child])
        ready = httpx.get(gateway.url + "/api/readyz")
        assert ready.status_code == 503
        assert ready.json()["status"] == "not_ready" and "exited" in ready.json()["detail"]
        assert httpx.get(gateway.url + "/api/healthz").status_code == 200
        assert httpx.get(gateway.url + "/api/hello").json() == {"hello": "world"}
        lost = httpx.get(gateway.url + "/")
        assert lost.status_code == 502 and "Streamlit child exited" in lost.text
    finally:
        gateway.proc.stop()


def test_sigterm_exits_0_and_stops_streamlit() -> None:
    gateway = start_gateway()
    children = streamlit_children(gateway)
    code = gateway.proc.stop(signal.SIGTERM, timeout=30)
    assert code == 0, gateway.proc.output()
    wait_gone(children, timeout=1)


def test_streamlit_dies_with_a_sigkilled_gateway() -> None:
    gateway = start_gateway()
    children = streamlit_children(gateway)
    os.kill(gateway.proc.pid, signal.SIGKILL)
    gateway.proc.wait(10)
    # No cleanup code ran in the gateway: the kernel's parent-death signal stops the child.
    wait_gone(children, timeout=15)
    gateway.proc.stop()


def test_unimportable_target_is_one_line_and_exit_2(tmp_path) -> None:
    result = run_cli("run", "nosuch_module:app", "--port", str(free_port()), cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "nosuch_module" in lines[0] and str(tmp_path) in lines[0]


def test_port_in_use_is_a_clear_error_and_exit_1() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run_cli("run", "app:app", "--port", str(port), cwd=DEMO)
    assert result.returncode == 1
    assert f"port {port} on 127.0.0.1 is already in use" in result.stderr


def test_bad_setting_fails_before_anything_starts() -> None:
    result = run_cli("run", cwd=DEMO, env={"FLUXLIT_GATEWAY_READ": "x", "FLUXLIT_GATEWAY_UPSTREAM_READ_TIMEOUT_S": "soon"})
    assert result.returncode == 2 and "FLUXLIT_GATEWAY_UPSTREAM_READ_TIMEOUT_S='soon'" in result.stderr


def test_bad_loop_choice_is_refused() -> None:
    result = run_cli("run", "--loop", "fast", cwd=DEMO)
    assert result.returncode == 2 and "fast" in result.stderr


def _serve_and_check(proc: Proc, port: int) -> None:
    url = f"http://127.0.0.1:{port}"
    try:
        ready = proc.wait_http(url + "/api/readyz", timeout=90)
        assert ready.json() == {"status": "ready", "streamlit": "ok"}
        assert httpx.get(url + "/api/hello").json() == {"hello": "world"}
        assert httpx.get(url + "/").headers["content-type"].startswith("text/html")
    finally:
        assert proc.stop(signal.SIGINT) in (0, -signal.SIGINT), proc.output()


def test_plain_uvicorn_serves_the_whole_stack() -> None:
    port = free_port()
    _serve_and_check(Proc([sys.executable, "-m", "uvicorn", "app:app", "--port", str(port)], cwd=DEMO), port)


def test_uvicorn_factory_serves_the_app_named_by_fluxlit_app() -> None:
    port = free_port()
    proc = Proc(
        [sys.executable, "-m", "uvicorn", "fluxlit.runtime:create_unified_app", "--factory", "--port", str(port)],
        cwd=DEMO,
        env={"FLUXLIT_APP": "app:app"},
    )
    _serve_and_check(proc, port)


def edited_hello(source: str, marker: str) -> str:
    """The demo's source with its /hello route changed so a reload shows ``marker``."""
    original = "return Greeting(hello=name)"
    assert source.count(original) == 1, f"the demo's /hello route no longer reads {original!r}"
    return source.replace(original, f'return Greeting(hello=f"{{name}} (reloaded: {marker})")')


def test_dev_reload_picks_up_api_changes_and_keeps_streamlit(tmp_path) -> None:
    source = (DEMO / "app.py").read_text()
    (tmp_path / "app.py").write_text(source)
    port = free_port()
    proc = Proc([str(BIN / "fluxlit"), "dev", "--reload", "--port", str(port)], cwd=tmp_path)
    url = f"http://127.0.0.1:{port}"
    try:
        proc.wait_http(url + "/api/readyz", timeout=90)
        streamlit = [p for p in proc.descendants() if "streamlit" in " ".join(p.cmdline())]
        (tmp_path / "app.py").write_text(edited_hello(source, "yes"))
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(url + "/api/hello").json()["hello"] == "world (reloaded: yes)":
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        else:
            raise AssertionError("the API did not reload:\n" + proc.output())
        assert proc.wait_http(url + "/api/readyz").status_code == 200
        assert all(p.is_running() for p in streamlit), "gateway-scope reload restarted Streamlit"
    finally:
        assert proc.stop(signal.SIGTERM, timeout=30) == 0, proc.output()


def test_dev_rejects_unknown_reload_scope() -> None:
    result = run_cli("dev", "--reload", "--reload-scope", "everything", cwd=DEMO)
    assert result.returncode == 2 and "everything" in result.stderr


def test_dev_full_reload_restarts_streamlit_too(tmp_path) -> None:
    source = (DEMO / "app.py").read_text()
    (tmp_path / "app.py").write_text(source)
    port = free_port()
    proc = Proc([str(BIN / "fluxlit"), "dev", "--reload", "--reload-scope", "full", "--port", str(port)], cwd=tmp_path)
    url = f"http://127.0.0.1:{port}"
    try:
        proc.wait_http(url + "/api/readyz", timeout=90)
        before = {p.pid for p in proc.descendants() if "streamlit" in " ".join(p.cmdline())}
        assert before, "no Streamlit child under the reloader"
        (tmp_path / "app.py").write_text(edited_hello(source, "full"))
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                if httpx.get(url + "/api/hello").json()["hello"] == "world (reloaded: full)" and httpx.get(url + "/api/readyz").status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        else:
            raise AssertionError("the app did not reload:\n" + proc.output())
        after = {p.pid for p in proc.descendants() if "streamlit" in " ".join(p.cmdline())}
        assert after and not after & before, "full-scope reload kept the old Streamlit child"
    finally:
        assert proc.stop(signal.SIGTERM, timeout=30) == 0, proc.output()


def test_startup_prints_one_ready_line_with_the_public_url_after_streamlit_answers(tmp_path: Path) -> None:
    with running_gateway(DEMO, "--pidfile", str(tmp_path / "p.pid")) as gateway:
        output = gateway.proc.output()
    lines = output.splitlines()
    ready = [line for line in lines if "fluxlit.runtime: ready: " in line]
    assert ready == [f"INFO     fluxlit.runtime: ready: {gateway.url}/ (API docs {gateway.url}/api/docs)"], output
    child = next(i for i, line in enumerate(lines) if "started the Streamlit child" in line)
    assert child < lines.index(ready[0]), "ready comes after the child answered"
    assert "Uvicorn server started" not in output and "server started on" not in output, "the child's own banner is silenced"
