"""The guides' runnable examples run: each doc's ``# file: NAME.py`` blocks are written into one
directory and pytest runs there in a subprocess, as a reader would run them."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = ("docs/pages.md", "docs/testing.md")

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


def test_blocks_are_found_only_with_their_file_line() -> None:
    markdown = "```python\n# file: app.py\nx = 1\n```\n\n```python\nfragment()\n```\n\n  ```python\nindented()\n  ```\n"
    assert runnable_files(markdown) == {"app.py": "# file: app.py\nx = 1\n"}


@pytest.mark.parametrize("doc", DOCS)
def test_the_runnable_snippets_of_a_doc_pass(doc: str, tmp_path: Path) -> None:
    files = runnable_files((ROOT / doc).read_text(encoding="utf-8"))
    assert files, f"{doc} has no runnable block (a python block whose first line is '# file: NAME.py')"
    assert any(name.startswith("test_") for name in files), f"{doc} has no '# file: test_*.py' block"
    for name, source in files.items():
        (tmp_path / name).write_text(source, encoding="utf-8")
    # The examples assume default settings: only the kernel choice is passed on.
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLUXLIT_") or k == "FLUXLIT_PURE_PYTHON"}
    env["PYTHONPATH"] = str(tmp_path)
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
        check=False,
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"the snippets of {doc} failed:\n{output}"
    assert re.search(r"\b\d+ passed\b", output), f"no test of {doc} ran:\n{output}"
