"""The kernel selector: compiled by default, pure on request, explicit about bad values."""

import os
import subprocess
import sys

import pytest

import fluxlit._speedups as speedups
from tests.conftest import pure_mode, twin


def test_selected_implementation_matches_the_mode() -> None:
    # The default CI run must really exercise the compiled kernels; the pure run must not.
    assert speedups.IMPLEMENTATION == ("pure" if pure_mode() else "compiled")
    assert speedups.request_id_for is twin("request_id", speedups.IMPLEMENTATION).request_id_for
    assert speedups.BodyLimit is twin("body_limit", speedups.IMPLEMENTATION).BodyLimit
    assert speedups.FrameInspector is twin("ws_frames", speedups.IMPLEMENTATION).FrameInspector


@pytest.mark.parametrize(("raw", "pure"), [("1", True), ("TRUE", True), ("yes", True), ("on", True), ("0", False), ("", False), ("false", False), (None, False)])
def test_pure_python_flag_is_parsed_explicitly(raw, pure: bool) -> None:
    assert speedups.pure_python_requested(raw) is pure


def test_unknown_pure_python_value_fails_with_the_accepted_forms() -> None:
    result = subprocess.run(
        [sys.executable, "-c", "import fluxlit"], env={**os.environ, "FLUXLIT_PURE_PYTHON": "maybe"}, capture_output=True, text=True
    )
    assert result.returncode != 0
    assert "FLUXLIT_PURE_PYTHON='maybe' is not a boolean" in result.stderr
    assert "1/true/yes/on" in result.stderr
