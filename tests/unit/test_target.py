"""Import-target resolution and loading."""

from pathlib import Path

import pytest

from fluxlit.runtime.target import TargetError, load_app, parse_target, resolve_target

APP = "from fluxlit import FluxLit\napp = FluxLit()\nother = 1\n"


def test_cli_value_wins_over_project_file(tmp_path: Path) -> None:
    (tmp_path / "fluxlit.toml").write_text('target = "fromfile:web"\n')
    assert str(resolve_target("cli:app", tmp_path)) == "cli:app"
    assert str(resolve_target(None, tmp_path)) == "fromfile:web"


def test_pyproject_tool_table_then_default(tmp_path: Path) -> None:
    assert str(resolve_target(None, tmp_path)) == "app:app"
    (tmp_path / "pyproject.toml").write_text('[tool.fluxlit]\ntarget = "svc.main:application"\n')
    assert str(resolve_target(None, tmp_path)) == "svc.main:application"


def test_file_target_uses_the_file_directory(tmp_path: Path) -> None:
    (tmp_path / "site.py").write_text(APP)
    target = parse_target(str(tmp_path / "site.py"), tmp_path)
    assert (target.module, target.attr, target.app_dir) == ("site", "app", str(tmp_path))


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("nosuchmodule_xyz:app", "cannot import module 'nosuchmodule_xyz'"),
        ("good_target_mod:missing", "has no attribute 'missing'"),
        ("good_target_mod:other", "is a int, not a FluxLit application"),
        ("not a target", "not of the form module:attribute"),
    ],
)
def test_bad_targets_explain_themselves(tmp_path: Path, spec: str, message: str) -> None:
    (tmp_path / "good_target_mod.py").write_text(APP)
    with pytest.raises(TargetError, match=message):
        load_app(parse_target(spec, tmp_path))


def test_broken_project_file_is_reported(tmp_path: Path) -> None:
    (tmp_path / "fluxlit.toml").write_text("target = \n")
    with pytest.raises(TargetError, match="not valid TOML"):
        resolve_target(None, tmp_path)
