"""The README's set-up paragraph matches what the Makefile really installs."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_every_debian_package_the_makefile_installs_is_named_with_its_purpose() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    packages = re.search(r"^DEBIAN_PACKAGES := (.+)$", makefile, re.MULTILINE).group(1).split()
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    setup = readme[readme.index("## Two commands on a fresh machine") : readme.index("## What you get")]
    for package in packages:
        # Each package appears in backticks followed by what needs it in parentheses.
        assert re.search(rf"`{re.escape(package)}`[^(]*\(([^)]+)\)", setup), f"README does not say what {package} is for"
