"""The package builds with compiled kernels, and still installs pure without them."""

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.support.processes import ROOT

pytestmark = pytest.mark.integration


def build_wheel(out: Path, **env: str) -> Path:
    # A clean copy of the sources: the checkout's own build/ and in-place kernels must not leak in.
    source = out.parent / "source"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(".git", ".venv", "build", "*.so", "*.c", "test-artifacts", "*.egg-info"))
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(out), str(source)],
        env={**os.environ, **env},
        check=True,
        capture_output=True,
        timeout=300,
    )
    (wheel,) = out.glob("fluxlit-*.whl")
    return wheel


def implementation_from(wheel: Path, tmp_path: Path) -> str:
    target = tmp_path / "site"
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(target)
    result = subprocess.run(
        [sys.executable, "-c", "import fluxlit._speedups as s; print(s.IMPLEMENTATION, s.request_id_for(None).decode())"],
        env={k: v for k, v in os.environ.items() if k != "FLUXLIT_PURE_PYTHON"} | {"PYTHONPATH": str(target)},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )
    implementation, minted = result.stdout.split()
    assert len(minted) == 32
    return implementation


def test_wheel_ships_compiled_kernels_sources_and_entry_script(tmp_path: Path) -> None:
    wheel = build_wheel(tmp_path / "dist")
    names = zipfile.ZipFile(wheel).namelist()
    assert any(n.startswith("fluxlit/_speedups/_request_id_c.") and n.endswith(".so") for n in names)
    assert "fluxlit/_speedups/_request_id_c.pyx" in names
    assert "fluxlit/_entry/fluxlit_entry.py" in names
    assert implementation_from(wheel, tmp_path) == "compiled"
    metadata = zipfile.ZipFile(wheel).read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
    requires = {line.removeprefix("Requires-Dist: ").replace(" ", "") for line in metadata.splitlines() if line.startswith("Requires-Dist: ")}
    for extra, needs in {"auth": ("pyjwt[crypto]", "authlib"), "redis": ("redis", "msgpack"), "otel": ("opentelemetry-sdk", "opentelemetry-exporter-otlp-proto-http")}.items():
        assert f"Provides-Extra: {extra}" in metadata
        for name in needs:
            assert any(r.startswith(name) and r.endswith(f'extra=="{extra}"') for r in requires), (extra, name, sorted(requires))


@pytest.mark.parametrize("env", [{"FLUXLIT_NO_EXTENSIONS": "1"}, {"CC": "/bin/false"}], ids=["opt-out", "no-compiler"])
def test_build_without_extensions_installs_a_working_pure_package(tmp_path: Path, env: dict[str, str]) -> None:
    wheel = build_wheel(tmp_path / "dist", **env)
    assert not any(n.endswith(".so") for n in zipfile.ZipFile(wheel).namelist())
    assert implementation_from(wheel, tmp_path) == "pure"
