"""The demo's own test file passes as a user runs it (``pytest`` in examples/demo) and covers every page."""

import ast
import importlib.util
import subprocess
import sys

import pytest

from tests.support.processes import ROOT

pytestmark = pytest.mark.integration

DEMO = ROOT / "examples" / "demo"


def test_the_demos_tests_pass_in_its_own_directory() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_app.py"],
        cwd=DEMO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "7 passed" in result.stdout, result.stdout


def test_every_demo_page_is_opened_by_a_test() -> None:
    tree = ast.parse((DEMO / "test_app.py").read_text())
    opened = {
        node.args[0].value
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "streamlit" and node.args and isinstance(node.args[0], ast.Constant)
    }
    spec = importlib.util.spec_from_file_location("demo_app_under_test", DEMO / "app.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    app = module.app
    assert {app.pages.get(page).path for page in opened} == {spec.path for spec in app.pages}
