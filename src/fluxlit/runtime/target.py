"""Import targets: which ``module:attribute`` holds the FluxLit app, and how to load it."""

import importlib
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..project_file import ProjectFileError, read_project_file

if TYPE_CHECKING:
    from ..app import FluxLit

DEFAULT_TARGET = "app:app"


class TargetError(Exception):
    """The import target cannot be resolved or loaded; the message says why and what to do."""


@dataclass(frozen=True)
class Target:
    """A loadable app location: ``module:attr`` importable once ``app_dir`` is on ``sys.path``."""

    module: str
    attr: str
    app_dir: str

    def __str__(self) -> str:
        return f"{self.module}:{self.attr}"


def project_file_target(cwd: Path) -> str | None:
    """``target`` from ``fluxlit.toml``, else from ``[tool.fluxlit]`` in ``pyproject.toml``."""
    try:
        value = read_project_file(cwd).data.get("target")
    except ProjectFileError as exc:
        raise TargetError(str(exc)) from None
    return str(value) if value else None


def parse_target(spec: str, cwd: Path) -> Target:
    """Parse ``module:attr``, ``module`` (attr ``app``) or ``path/to/file.py[:attr]``."""
    module, _, attr = spec.partition(":")
    attr = attr or "app"
    if module.endswith(".py") or os.sep in module:
        path = (cwd / module).resolve()
        if not path.is_file():
            raise TargetError(f"target {spec!r}: no file {path}; pass module:attribute or an existing .py file")
        return Target(path.stem, attr, str(path.parent))
    if not module or not module.replace(".", "").replace("_", "").isalnum():
        raise TargetError(f"target {spec!r} is not of the form module:attribute (for example app:app)")
    return Target(module, attr, str(cwd.resolve()))


def resolve_target(cli_value: str | None, cwd: Path | None = None) -> Target:
    """CLI argument -> ``FLUXLIT_APP`` -> project file ``target`` -> ``app:app``."""
    cwd = cwd or Path.cwd()
    return parse_target(cli_value or os.environ.get("FLUXLIT_APP") or project_file_target(cwd) or DEFAULT_TARGET, cwd)


def load_app(target: Target) -> "FluxLit":
    """Import the target and return its FluxLit object (``TargetError`` with a one-line reason)."""
    from ..app import FluxLit

    if target.app_dir not in sys.path:
        sys.path.insert(0, target.app_dir)
    try:
        module = importlib.import_module(target.module)
    except ModuleNotFoundError as exc:
        if exc.name and target.module.startswith(exc.name):
            raise TargetError(
                f"cannot import module {target.module!r} (target {target}) from {target.app_dir}: no such module; "
                "run from the directory that holds it or pass module:attribute"
            ) from None
        raise TargetError(f"importing {target.module!r} (target {target}) failed: {exc}") from exc
    except Exception as exc:
        raise TargetError(f"importing {target.module!r} (target {target}) raised {type(exc).__name__}: {exc}") from exc
    app = getattr(module, target.attr, None)
    if app is None:
        raise TargetError(f"module {target.module!r} ({module.__file__}) has no attribute {target.attr!r}; pass module:attribute")
    if not isinstance(app, FluxLit):
        raise TargetError(f"{target} is a {type(app).__name__}, not a FluxLit application")
    app.import_target = app.import_target or target
    return app


def infer_target(app: "FluxLit", module_name: str) -> Target:
    """Where ``app`` can be re-imported from, given the module it was created in."""
    module = sys.modules.get(module_name)
    file = getattr(module, "__file__", None)
    if module is None or file is None:
        raise TargetError(
            f"cannot tell where the FluxLit app created in {module_name!r} lives; "
            "pass FluxLit(import_target='module:attr') or set FLUXLIT_APP"
        )
    attr = next((name for name, value in vars(module).items() if value is app), None)
    if attr is None:
        raise TargetError(f"the FluxLit app is not a global of {module_name!r}; pass FluxLit(import_target='module:attr')")
    root = Path(file).resolve().parent
    name = Path(file).stem if module_name == "__main__" else module_name
    depth = name.count(".") + (1 if Path(file).name == "__init__.py" else 0)
    for _ in range(depth):
        root = root.parent
    return Target(name, attr, str(root))
