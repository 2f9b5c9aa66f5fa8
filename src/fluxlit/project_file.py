"""The project file: ``fluxlit.toml``, else ``[tool.fluxlit]`` in ``pyproject.toml``."""

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


class ProjectFileError(ValueError):
    """The project file cannot be read; the message names the file and the problem."""


@dataclass(frozen=True)
class ProjectFile:
    """Keys of the project file that applies in a directory (empty when there is none)."""

    path: Path | None = None
    data: dict[str, Any] = field(default_factory=dict)


def read_project_file(cwd: Path | None = None) -> ProjectFile:
    """``fluxlit.toml`` wins over ``pyproject.toml``'s ``[tool.fluxlit]`` table."""
    cwd = cwd or Path.cwd()
    for name, table in (("fluxlit.toml", ()), ("pyproject.toml", ("tool", "fluxlit"))):
        path = cwd / name
        if not path.is_file():
            continue
        try:
            data: Any = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ProjectFileError(f"{path} is not valid TOML ({exc}); fix the file or remove it") from None
        for key in table:
            data = data.get(key, {}) if isinstance(data, dict) else {}
        if name == "fluxlit.toml" or data:
            if not isinstance(data, dict):
                raise ProjectFileError(f"{path}: [{'.'.join(table)}] must be a table")
            return ProjectFile(path, data)
    return ProjectFile()
