"""Check the wheel ``make wheel`` built for this Python: a manylinux tag, kernels without debug info
or symbol tables, and a fresh venv where it installs and passes the smoke tests in both modes.

    python release/check_wheel.py DIST_DIR
"""

import shutil
import subprocess
import sys
import venv
import zipfile
from io import BytesIO
from pathlib import Path

from elftools.elf.elffile import ELFFile
from packaging.tags import sys_tags
from packaging.utils import parse_wheel_filename

PROJECT = Path(__file__).resolve().parents[1]
VENV = PROJECT / "build" / "wheel-venv"


def wheel_for_this_python(dist: Path) -> Path:
    """The one wheel in ``dist`` that this interpreter would install."""
    supported = set(sys_tags())
    matches = [wheel for wheel in dist.glob("fluxlit-*.whl") if supported & set(parse_wheel_filename(wheel.name)[3])]
    if len(matches) != 1:
        raise SystemExit(f"expected one fluxlit wheel for this Python in {dist}, found {[m.name for m in matches]}; run make wheel")
    return matches[0]


def unstripped_kernels(wheel: Path) -> list[str]:
    """Kernel files in ``wheel`` that still carry debug sections or a symbol table."""
    problems = []
    with zipfile.ZipFile(wheel) as archive:
        kernels = [name for name in archive.namelist() if name.endswith(".so")]
        if not kernels:
            return ["the wheel has no compiled kernels"]
        for name in kernels:
            sections = {section.name for section in ELFFile(BytesIO(archive.read(name))).iter_sections()}
            kept = sorted(s for s in sections if s.startswith(".debug") or s == ".symtab")
            if kept:
                problems.append(f"{name} keeps {', '.join(kept)}")
    return problems


def main(dist: Path) -> int:
    wheel = wheel_for_this_python(dist)
    platforms = {tag.platform for tag in parse_wheel_filename(wheel.name)[3]}
    print(f"checking {wheel.name}")
    if not any(platform.startswith("manylinux") for platform in platforms):
        raise SystemExit(f"{wheel.name} is not tagged manylinux ({', '.join(sorted(platforms))}); repair it with auditwheel")
    if problems := unstripped_kernels(wheel):
        raise SystemExit("kernels are not stripped: " + "; ".join(problems))
    shutil.rmtree(VENV, ignore_errors=True)
    venv.create(VENV, with_pip=True)
    python = VENV / "bin" / "python"
    subprocess.run([python, "-m", "pip", "install", "-q", str(wheel), "pytest>=8", "pytest-timeout>=2.3"], check=True)
    # The import must come from the venv's copy of the wheel, not the checkout.
    location = subprocess.run([python, "-c", "import fluxlit; print(fluxlit.__file__)"], cwd=VENV, capture_output=True, text=True, check=True)
    if not location.stdout.startswith(str(VENV)):
        raise SystemExit(f"fluxlit imported from {location.stdout.strip()}, not from the fresh venv")
    return subprocess.run([python, PROJECT / "release" / "smoke.py", PROJECT], check=False).returncode


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else PROJECT / "dist"))
