"""The documentation site: every page is in the navigation, and the generated reference covers every
setting and every command (the hooks of ``mkdocs.yml`` are called here as the build calls them)."""

import re
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
from mkdocs.config import load_config
from typer.main import get_command

from fluxlit import scaffold
from fluxlit.cli import cli
from fluxlit.settings import FluxlitSettings
from tests.unit.test_docs_snippets import runnable_files

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"


@pytest.fixture(scope="module")
def site():  # mkdocs' config object
    return load_config(str(ROOT / "mkdocs.yml"))


@pytest.fixture(scope="module")
def hooks(site) -> ModuleType:
    (module,) = site["hooks"].values()
    return module


def nav_pages(nav: object) -> Iterator[str]:
    """Every page file named anywhere in a nav tree."""
    if isinstance(nav, str):
        yield nav
    elif isinstance(nav, dict):
        for value in nav.values():
            yield from nav_pages(value)
    elif isinstance(nav, list):
        for item in nav:
            yield from nav_pages(item)


def all_commands() -> list[object]:
    """The program and every command under it."""
    root = get_command(cli)
    found, stack = [], [root]
    while stack:
        command = stack.pop()
        found.append(command)
        stack += getattr(command, "commands", {}).values()
    return found


def test_every_page_is_in_the_nav(site) -> None:
    listed = list(nav_pages(site["nav"]))
    on_disk = sorted(path.name for path in DOCS.glob("*.md"))
    assert sorted(set(on_disk) - set(listed)) == [], "pages missing from the nav in mkdocs.yml"
    assert sorted(set(listed) - set(on_disk)) == [], "the nav in mkdocs.yml names pages that do not exist"
    assert len(listed) == len(set(listed)), "a page is listed twice in the nav"


def test_every_generated_part_has_its_marker_on_a_page(hooks) -> None:
    pages = "".join(path.read_text(encoding="utf-8") for path in DOCS.glob("*.md"))
    assert {name for name in hooks.GENERATED if f"<!-- generated: {name} -->" not in pages} == set()


def test_the_settings_tables_have_one_row_for_every_setting(hooks) -> None:
    reference = hooks.settings_reference
    rows = re.findall(r"^\| `(FLUXLIT_[A-Z0-9_]+)` \|", reference.markdown(), re.MULTILINE)
    assert sorted(rows) == sorted(reference.env_name(name) for name in FluxlitSettings.model_fields)
    assert reference.problems() == []


def test_secrets_have_no_default_shown(hooks) -> None:
    row = next(line for line in hooks.settings_reference.markdown().splitlines() if line.startswith("| `FLUXLIT_OIDC_CLIENT_SECRET`"))
    assert row.split(" | ")[2] == "none"


def test_the_cli_reference_has_a_section_for_every_command_with_all_its_options(hooks) -> None:
    markdown = hooks.cli_reference.markdown()
    sections = dict(re.findall(r"^## (fluxlit[a-z ]*)\n\n```text\n(.*?)^```", markdown, re.MULTILINE | re.DOTALL))
    root = get_command(cli)
    assert sorted(sections) == sorted(["fluxlit", *(f"fluxlit {name}" for name in root.commands)])
    for path, help_text in sections.items():
        command = root if path == "fluxlit" else root.commands[path.split()[1]]
        assert help_text.startswith(f"Usage: {path} ")
        for param in command.params:
            for option in [*param.opts, *param.secondary_opts] if param.param_type_name == "option" else []:
                assert option in help_text, f"{path}: {option} is missing from its reference"
        assert max(map(len, help_text.splitlines())) <= hooks.cli_reference.WIDTH


def test_every_option_the_guides_name_exists() -> None:
    options = {option for command in all_commands() for param in command.params for option in [*param.opts, *param.secondary_opts]}
    for page in ("cli.md", "configuration.md"):
        named = set(re.findall(r"(?<![\w-])--[a-z][a-z-]*[a-z]", (DOCS / page).read_text(encoding="utf-8")))
        assert named - options - {"--help"} == set(), f"{page} names options the CLI does not have"


def test_getting_started_shows_the_files_fluxlit_new_writes() -> None:
    files = runnable_files((DOCS / "index.md").read_text(encoding="utf-8"))
    without_file_line = {name: source.split("\n", 1)[1] for name, source in files.items()}
    assert without_file_line == {
        "app.py": scaffold.APP_PY.format(title="My App"),
        "test_app.py": scaffold.TEST_APP_PY,
    }
