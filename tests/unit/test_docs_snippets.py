"""The documentation's runnable examples run, as a reader would run them: each doc's
``# file: NAME.py`` blocks are written into a directory of their own and pytest runs them there.

Every ``docs/*.md`` page and the README are read. A python block whose first line is
``# file: NAME.py`` is a complete file; any other python block is an excerpt and is not run. All
the docs' directories go to one pytest subprocess, so file names must differ across docs.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = [*sorted((ROOT / "docs").glob("*.md")), ROOT / "README.md"]

FENCE = re.compile(r"^```python\n(.*?)^```", re.DOTALL | re.MULTILINE)
FILE_LINE = re.compile(r"# file: ([A-Za-z_][A-Za-z0-9_]*\.py)\n")


def runnable_files(markdown: str) -> dict[str, str]:
    """``{name: source}`` for each python block whose first line is ``# file: NAME.py``."""
    files: dict[str, str] = {}
    for block in FENCE.findall(markdown):
        found = FILE_LINE.match(block)
        if found is None:
            continue  # an excerpt, not a file
        name = found.group(1)
        assert name not in files, f"two blocks are the file {name}"
        files[name] = block
    return files


RUNNABLE = {doc.relative_to(ROOT).as_posix(): files for doc in DOCS if (files := runnable_files(doc.read_text(encoding="utf-8")))}


def test_blocks_are_found_only_with_their_file_line() -> None:
    markdown = "```python\n# file: app.py\nx = 1\n```\n\n```python\nfragment()\n```\n\n  ```python\nindented()\n  ```\n"
    assert runnable_files(markdown) == {"app.py": "# file: app.py\nx = 1\n"}


def test_the_guides_with_examples_are_among_the_runnable_docs() -> None:
    assert {"docs/index.md", "docs/pages.md", "docs/testing.md"} <= RUNNABLE.keys()


@pytest.mark.parametrize("doc", sorted(RUNNABLE))
def test_a_doc_with_runnable_blocks_has_a_test_block(doc: str) -> None:
    assert any(name.startswith("test_") for name in RUNNABLE[doc]), f"{doc} has runnable blocks but no '# file: test_*.py' block to run them"


def test_no_two_docs_have_a_file_of_the_same_name() -> None:
    docs_of: dict[str, list[str]] = {}
    for doc, files in RUNNABLE.items():
        for name in files:
            docs_of.setdefault(name, []).append(doc)
    assert {name: docs for name, docs in docs_of.items() if len(docs) > 1} == {}, "rename the file in one of the docs"


def test_the_runnable_snippets_pass(tmp_path: Path) -> None:
    directories = {doc: tmp_path / doc.removesuffix(".md").replace("/", "_") for doc in RUNNABLE}
    for doc, files in RUNNABLE.items():
        directories[doc].mkdir()
        for name, source in files.items():
            (directories[doc] / name).write_text(source, encoding="utf-8")
    # The examples assume default settings: only the kernel choice is passed on.
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLUXLIT_") or k == "FLUXLIT_PURE_PYTHON"}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-v", "-p", "no:cacheprovider", str(tmp_path)],
        check=False,
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"the docs' snippets failed:\n{output}"
    for doc, directory in directories.items():
        assert re.search(rf"^{re.escape(directory.name)}/test_\S+ PASSED", output, re.MULTILINE), f"no test of {doc} ran:\n{output}"
