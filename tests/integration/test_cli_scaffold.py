"""`fluxlit build` and `fluxlit new` as subprocesses: what they write, what they refuse, and that it works."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import DEMO, start_gateway
from tests.support.processes import BIN, free_port, run_cli

pytestmark = pytest.mark.integration


def instruction(dockerfile: str, keyword: str) -> str:
    """The argument of the one ``keyword`` instruction, continuation lines joined."""
    joined = dockerfile.replace("\\\n", " ")
    found = [line.removeprefix(keyword).strip() for line in joined.splitlines() if line.startswith(keyword + " ")]
    assert len(found) == 1, f"expected one {keyword}: {found}"
    return found[0]


def test_build_writes_a_pinned_non_root_dockerfile_and_a_dockerignore(tmp_path: Path) -> None:
    out = tmp_path / "image"
    result = run_cli("build", "-o", str(out), cwd=DEMO)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [f"wrote {out / 'Dockerfile'}", f"wrote {out / '.dockerignore'}"]
    dockerfile = (out / "Dockerfile").read_text()
    assert re.fullmatch(r"python:3\.12-slim@sha256:[0-9a-f]{64}", instruction(dockerfile, "FROM"))
    assert "useradd --create-home --uid 1000 appuser" in dockerfile
    assert instruction(dockerfile, "USER") == "appuser"
    assert "ENV FLUXLIT_GATEWAY_HOST=0.0.0.0" in dockerfile
    assert instruction(dockerfile, "EXPOSE") == "8000"
    assert json.loads(instruction(dockerfile, "CMD")) == ["fluxlit", "run", "app:app"]
    ignored = (out / ".dockerignore").read_text().splitlines()
    assert {".env", ".venv", "__pycache__", ".git"} <= set(ignored)


def test_build_puts_an_explicit_target_in_cmd(tmp_path: Path) -> None:
    result = run_cli("build", "service.main:application", "--output", str(tmp_path), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert json.loads(instruction((tmp_path / "Dockerfile").read_text(), "CMD")) == ["fluxlit", "run", "service.main:application"]


def test_build_refuses_to_overwrite_without_force(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    refused = run_cli("build", "-o", str(tmp_path), cwd=DEMO)
    assert refused.returncode == 1
    assert f"{tmp_path / 'Dockerfile'} already exists; pass --force to overwrite" in refused.stderr
    assert (tmp_path / "Dockerfile").read_text() == "FROM scratch\n"
    assert not (tmp_path / ".dockerignore").exists(), "a refused build must write nothing"
    forced = run_cli("build", "-o", str(tmp_path), "--force", cwd=DEMO)
    assert forced.returncode == 0, forced.stderr
    assert (tmp_path / "Dockerfile").read_text().startswith("# syntax=docker/dockerfile:1")


def test_build_healthcheck_probes_the_gateway_under_its_root_path(tmp_path: Path) -> None:
    assert run_cli("build", "-o", str(tmp_path), cwd=DEMO).returncode == 0
    healthcheck = instruction((tmp_path / "Dockerfile").read_text(), "HEALTHCHECK")
    command = json.loads(healthcheck[healthcheck.index("CMD ") + 4 :])
    assert command[0] == "python"
    probe = [sys.executable, *command[1:]]
    env = {"FLUXLIT_ROOT_PATH": "/apps/hc"}
    gateway = start_gateway(DEMO, env=env, ready="/apps/hc/api/readyz")
    try:
        container_env = {**env, "FLUXLIT_GATEWAY_PORT": str(gateway.port)}
        healthy = subprocess.run(probe, cwd=tmp_path, env=_env(container_env), capture_output=True, text=True, timeout=30)
        assert healthy.returncode == 0, healthy.stderr
    finally:
        gateway.proc.stop()
    down = subprocess.run(probe, cwd=tmp_path, env=_env({"FLUXLIT_GATEWAY_PORT": str(free_port())}), capture_output=True, timeout=30)
    assert down.returncode != 0


def _env(extra: dict[str, str]) -> dict[str, str]:
    return {**os.environ, **extra}


def test_new_project_passes_doctor_and_its_own_test(tmp_path: Path) -> None:
    result = run_cli("new", "my-app", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    project = tmp_path / "my-app"
    for name in ("app.py", "fluxlit.toml", "tests/test_app.py", "README.md"):
        assert (project / name).is_file(), name
    assert 'target = "app:app"' in (project / "fluxlit.toml").read_text()

    doctor = run_cli("doctor", "--json", cwd=project)
    report = json.loads(doctor.stdout)
    assert doctor.returncode == 0, doctor.stdout
    assert [c for c in report["checks"] if c["status"] == "FAIL"] == []
    assert next(c for c in report["checks"] if c["name"] == "import_target")["status"] == "PASS"

    tests = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"], cwd=project, capture_output=True, text=True, timeout=120
    )
    assert tests.returncode == 0, tests.stdout + tests.stderr
    assert "3 passed" in tests.stdout, "the API, a probe and the home page through FluxLitTestClient"
    assert "tc.streamlit(\"/\")" in (project / "tests" / "test_app.py").read_text()


def test_new_refuses_an_existing_directory(tmp_path: Path) -> None:
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "keep.txt").write_text("mine")
    result = run_cli("new", "taken", cwd=tmp_path)
    assert result.returncode == 1 and "taken already exists" in result.stderr
    assert [p.name for p in (tmp_path / "taken").iterdir()] == ["keep.txt"]


def test_new_rejects_a_name_that_is_not_a_directory_name(tmp_path: Path) -> None:
    result = run_cli("new", "my app!", cwd=tmp_path)
    assert result.returncode == 1 and "must be letters, digits" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_new_project_ignores_local_files_and_names_commands_that_work_from_a_new_shell(tmp_path: Path) -> None:
    outside_venv = os.pathsep.join(p for p in os.environ.get("PATH", "").split(os.pathsep) if Path(p).resolve() != BIN.resolve())
    result = run_cli("new", "plain", cwd=tmp_path, env={"PATH": outside_venv})
    assert result.returncode == 0, result.stderr
    ignored = (tmp_path / "plain" / ".gitignore").read_text().splitlines()
    assert {".venv/", "__pycache__/", ".pytest_cache/", ".fluxlit.pid", ".env"} <= set(ignored)
    hint = result.stdout.splitlines()[-1]
    fluxlit = re.escape(str(BIN / "fluxlit"))
    assert re.fullmatch(rf"next: cd plain && {fluxlit} doctor && {re.escape(str(BIN))}/python[0-9.]* -m pytest && {fluxlit} run", hint), hint
    activated = run_cli("new", "activated", cwd=tmp_path, env={"PATH": os.pathsep.join([str(BIN), outside_venv])})
    assert activated.stdout.splitlines()[-1] == "next: cd activated && fluxlit doctor && python -m pytest && fluxlit run"
