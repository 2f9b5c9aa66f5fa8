"""Smoke tests of an installed FluxLit: the kernels that loaded, the CLI, the API in process and
``fluxlit run`` with a real Streamlit child. They need nothing beyond FluxLit's own dependencies
and pytest, so they also run against a wheel in a fresh venv (``make wheel-check``, cibuildwheel)."""

import os
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from contextlib import contextmanager
from importlib.metadata import version
from pathlib import Path

import httpx
import pytest

from fluxlit import FluxLit
from fluxlit._speedups import IMPLEMENTATION, PURE_PYTHON_ENV, pure_python_requested
from fluxlit.testing import FluxLitTestClient

APP = '''
from fluxlit import FluxLit

app = FluxLit(title="Smoke")


@app.api.get("/hello")
def hello() -> dict[str, str]:
    return {"hello": "smoke"}


@app.page("/", title="Home")
def home(st) -> None:
    st.title("Smoke home")
'''


def fluxlit(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "fluxlit", *args], cwd=cwd, capture_output=True, text=True, timeout=120, check=False)


def test_the_expected_kernels_are_loaded() -> None:
    # FLUXLIT_EXPECT_IMPLEMENTATION names what this install must load (a pure-only build says "pure").
    expected = os.environ.get("FLUXLIT_EXPECT_IMPLEMENTATION") or ("pure" if pure_python_requested(os.environ.get(PURE_PYTHON_ENV)) else "compiled")
    assert IMPLEMENTATION == expected


def test_the_cli_reports_its_version_and_kernels() -> None:
    assert fluxlit("--version").stdout.strip() == f"fluxlit {version('fluxlit')}"
    report = fluxlit("version").stdout.splitlines()
    assert f"fluxlit {version('fluxlit')}" in report
    assert f"kernels {IMPLEMENTATION}" in report


def test_the_api_answers_in_process() -> None:
    app = FluxLit(title="Smoke")
    app.api.get("/hello")(lambda: {"hello": "smoke"})
    response = FluxLitTestClient(app).api.get("/api/hello")
    assert response.json() == {"hello": "smoke"}
    assert len(response.headers["x-request-id"]) == 32


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "app.py").write_text(textwrap.dedent(APP), encoding="utf-8")
    return tmp_path


@contextmanager
def served(project: Path) -> Iterator[str]:
    """``fluxlit run`` in ``project`` on a free port, yielding its base URL once ready."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "fluxlit", "run", "app:app", "--port", str(port), "--no-pidfile"],
        cwd=project,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while process.poll() is None and time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/api/readyz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        else:
            pytest.fail("fluxlit run did not become ready" + (f":\n{process.communicate()[1]}" if process.poll() is not None else ""))
        yield base
    finally:
        process.terminate()  # a graceful stop, which also stops the Streamlit child
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


def test_fluxlit_run_serves_the_api_and_streamlit_or_names_the_windows_way(project: Path) -> None:
    if sys.platform == "win32":
        result = fluxlit("run", "app:app", cwd=project)
        assert result.returncode == 2
        assert len(result.stderr.strip().splitlines()) == 1
        assert "uvicorn app:app" in result.stderr
        return
    with served(project) as base:
        assert httpx.get(f"{base}/api/hello").json() == {"hello": "smoke"}
        assert httpx.get(f"{base}/_stcore/health").text == "ok"
        page = httpx.get(f"{base}/")
        assert page.status_code == 200
        assert '<div id="root"></div>' in page.text  # Streamlit's own page, through the proxy
