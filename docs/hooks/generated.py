"""MkDocs hooks: the parts of the site generated from the code and data they describe.

A page asks for generated content with a marker on a line of its own, ``<!-- generated: NAME -->``,
replaced before the page is rendered. The benchmark plots are added to the site as SVG files.
Anything that would make a generated part wrong or incomplete is logged as a warning, which fails
``mkdocs build --strict``.
"""

import logging
import re
from collections.abc import Callable

import benchmark_report
import cli_reference
import settings_reference
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import File, Files
from mkdocs.structure.pages import Page

log = logging.getLogger("mkdocs.hooks.fluxlit")

MARKER = re.compile(r"^<!-- generated: ([a-z-]+) -->$", re.MULTILINE)

GENERATED: dict[str, Callable[[MkDocsConfig], str]] = {
    "settings-tables": lambda config: settings_reference.markdown(),
    "cli-reference": lambda config: cli_reference.markdown(),
    "benchmark-tables": lambda config: benchmark_report.tables(benchmark_report.load(config.docs_dir)),
    "benchmark-plots": lambda config: benchmark_report.figures(),
}
"""Marker name -> the markdown that replaces it."""


def on_config(config: MkDocsConfig) -> MkDocsConfig:
    """Warn about every setting the tables would miss or misdescribe."""
    for problem in settings_reference.problems():
        log.warning(problem)
    return config


def on_files(files: Files, config: MkDocsConfig) -> Files:
    """Add the benchmark plots to the site."""
    for path, text in benchmark_report.svgs(config.docs_dir).items():
        files.append(File.generated(config, path, content=text))
    return files


def on_page_markdown(markdown: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    """Replace each marker with what it names."""
    def expand(marker: re.Match[str]) -> str:
        name = marker.group(1)
        if name not in GENERATED:
            log.warning(f"{page.file.src_uri}: unknown marker {marker.group(0)!r}; known: {', '.join(GENERATED)}")
            return marker.group(0)
        return GENERATED[name](config)

    return MARKER.sub(expand, markdown)
