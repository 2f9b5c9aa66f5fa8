"""Run the smoke tests against the FluxLit installed for this Python: first compiled, asserting the
compiled kernels loaded, then with FLUXLIT_PURE_PYTHON=1.

    python release/smoke.py [PROJECT_DIR]

cibuildwheel's test-command and ``make wheel-check`` both call it; only pytest is needed beside FluxLit.
"""

import os
import subprocess
import sys
from pathlib import Path

MODES = (
    ("compiled", {"FLUXLIT_EXPECT_IMPLEMENTATION": "compiled"}),
    ("pure", {"FLUXLIT_PURE_PYTHON": "1", "FLUXLIT_EXPECT_IMPLEMENTATION": "pure"}),
)


def run(project: Path) -> int:
    smoke = project / "tests" / "smoke"
    # The suite's own conftest needs the dev tools; the smoke tests need only FluxLit and pytest.
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir", str(project), "--confcutdir", str(smoke), str(smoke)]
    base = {name: value for name, value in os.environ.items() if not name.startswith("FLUXLIT_")}
    for mode, env in MODES:
        print(f"smoke tests, {mode} kernels", flush=True)
        code = subprocess.run(command, cwd=project, env={**base, **env}, check=False).returncode
        if code != 0:
            print(f"smoke tests failed with the {mode} kernels (pytest exit {code})", file=sys.stderr)
            return code or 1
    return 0


if __name__ == "__main__":
    sys.exit(run(Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).resolve().parents[1]).resolve()))
