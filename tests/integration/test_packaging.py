"""The sdist carries what building, testing and documenting need; a wheel built from it ships
stripped compiled kernels, and without a compiler (or with the opt-out) a working pure package."""

import os
import shutil
import subprocess
import sys
import tarfile
import zipfile
from io import BytesIO
from pathlib import Path

import pytest
from elftools.elf.elffile import ELFFile

from tests.support.processes import ROOT

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def sdist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # A clean copy of the checkout: its build/ and in-place kernels must not leak in.
    work = tmp_path_factory.mktemp("sdist")
    source = work / "source"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(".git", ".venv", "build", "dist", "*.so", "*.c", "test-artifacts", "*.egg-info"))
    subprocess.run(
        [sys.executable, "-m", "build", "--sdist", "--no-isolation", "--outdir", str(work / "dist"), str(source)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (archive,) = (work / "dist").glob("fluxlit-*.tar.gz")
    return archive


def build_wheel(sdist: Path, out: Path, **env: str) -> Path:
    """A wheel built from the sdist, as pip does for a platform without a published wheel."""
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(out), str(sdist)],
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


def test_the_sdist_carries_sources_tests_docs_examples_and_the_license(sdist: Path) -> None:
    with tarfile.open(sdist) as archive:
        names = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    for needed in (
        "LICENSE",
        "src/fluxlit/_speedups/_headers_c.pyx",
        "src/fluxlit/_entry/fluxlit_entry.py",
        "tests/smoke/test_installed.py",
        "tests/conftest.py",
        "docs/configuration.md",
        "mkdocs.yml",
        "examples/demo/app.py",
        "release/smoke.py",
        "cibuildwheel.toml",
    ):
        assert needed in names, needed
    assert not [name for name in names if name.endswith((".so", ".pyc")) or "/_speedups/_" in name and name.endswith(".c")]


def test_a_wheel_from_the_sdist_ships_stripped_compiled_kernels(sdist: Path, tmp_path: Path) -> None:
    wheel = build_wheel(sdist, tmp_path / "dist")
    archive = zipfile.ZipFile(wheel)
    names = archive.namelist()
    kernels = [n for n in names if n.startswith("fluxlit/_speedups/") and n.endswith(".so")]
    assert len(kernels) == 4, kernels
    for name in kernels:
        sections = {section.name for section in ELFFile(BytesIO(archive.read(name))).iter_sections()}
        assert not {s for s in sections if s.startswith(".debug") or s == ".symtab"}, (name, sorted(sections))
    assert "fluxlit/_speedups/_request_id_c.pyx" in names
    assert "fluxlit/_entry/fluxlit_entry.py" in names
    assert implementation_from(wheel, tmp_path) == "compiled"
    metadata = archive.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
    requires = {line.removeprefix("Requires-Dist: ").replace(" ", "") for line in metadata.splitlines() if line.startswith("Requires-Dist: ")}
    for extra, needs in {"auth": ("pyjwt[crypto]", "authlib"), "redis": ("redis", "msgpack"), "otel": ("opentelemetry-sdk", "opentelemetry-exporter-otlp-proto-http")}.items():
        assert f"Provides-Extra: {extra}" in metadata
        for name in needs:
            assert any(r.startswith(name) and r.endswith(f'extra=="{extra}"') for r in requires), (extra, name, sorted(requires))
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)


@pytest.mark.parametrize("env", [{"FLUXLIT_NO_EXTENSIONS": "1"}, {"CC": "/bin/false"}], ids=["opt-out", "no-compiler"])
def test_the_sdist_without_a_compiler_installs_a_working_pure_package(sdist: Path, tmp_path: Path, env: dict[str, str]) -> None:
    wheel = build_wheel(sdist, tmp_path / "dist", **env)
    assert not any(n.endswith(".so") for n in zipfile.ZipFile(wheel).namelist())
    assert implementation_from(wheel, tmp_path) == "pure"
