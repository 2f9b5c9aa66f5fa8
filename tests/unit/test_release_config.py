"""cibuildwheel.toml builds the promised matrix and tests every wheel in both modes."""

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "cibuildwheel.toml"
PYTHONS = ("cp311", "cp312", "cp313", "cp314")
MATRIX = {
    "linux": {f"{py}-{platform}" for py in PYTHONS for platform in ("manylinux_x86_64", "manylinux_aarch64", "musllinux_x86_64")},
    "macos": {f"{py}-{platform}" for py in PYTHONS for platform in ("macosx_x86_64", "macosx_arm64")},
    "windows": {f"{py}-win_amd64" for py in PYTHONS},
}


@pytest.mark.parametrize("platform", sorted(MATRIX))
def test_cibuildwheel_builds_the_promised_matrix(platform: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "cibuildwheel", "--config-file", str(CONFIG), "--print-build-identifiers", "--platform", platform, str(ROOT)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert set(result.stdout.split()) == MATRIX[platform]


def test_every_wheel_runs_the_smoke_tests_in_both_modes() -> None:
    options = tomllib.loads(CONFIG.read_text(encoding="utf-8"))["tool"]["cibuildwheel"]
    assert options["test-command"] == "python {project}/release/smoke.py {project}"
    smoke = (ROOT / "release" / "smoke.py").read_text(encoding="utf-8")
    assert '"FLUXLIT_EXPECT_IMPLEMENTATION": "compiled"' in smoke and '"FLUXLIT_PURE_PYTHON": "1"' in smoke
    assert "[tool.cibuildwheel]" not in (ROOT / "pyproject.toml").read_text(encoding="utf-8")
