"""Files FluxLit writes for users: a container build (``fluxlit build``) and a new project (``fluxlit new``)."""

import json
import re
import shutil
import sys
from pathlib import Path

from . import __version__

# Multi-arch OCI index digest of python:3.12-slim (Python 3.12.14, Debian trixie) as published in
# September 2026. Refresh with `docker buildx imagetools inspect python:3.12-slim`.
PYTHON_IMAGE = "python:3.12-slim@sha256:e5c9fa26ffb76e11e0f054f30dc2523a2f9693f0c36c0cf1e39b27e152d899fc"
APP_UID = 1000
PORT = 8000

DOCKERIGNORE = """\
# Never send secrets or local environments into the image.
.env
.env.*
.venv
venv
__pycache__
*.pyc
.git
.pytest_cache
.fluxlit.pid
Dockerfile
.dockerignore
"""

# Reads the effective settings inside the container, so a root path or port from the environment or
# fluxlit.toml is probed where it really is.
_HEALTHCHECK = (
    "import urllib.request; from fluxlit.settings import load_settings; s = load_settings(); "
    "urllib.request.urlopen(f'http://127.0.0.1:{s.gateway_port}{s.api_prefix}/healthz', timeout=3)"
)


class ScaffoldError(OSError):
    """A file or directory would be overwritten; the message names it and the way out."""


def dockerfile(target: str, *, requirements: bool) -> str:
    """A production Dockerfile: digest-pinned base, non-root user, the gateway on 0.0.0.0:8000."""
    install = (
        "COPY requirements.txt ./\nRUN pip install -r requirements.txt\n" if requirements else ""
    ) + f'RUN pip install "fluxlit=={__version__}"\n'
    return f"""\
# syntax=docker/dockerfile:1
# Written by `fluxlit build`. The base image is pinned by digest so rebuilds are reproducible;
# refresh it with `docker buildx imagetools inspect python:3.12-slim`.
FROM {PYTHON_IMAGE}

ENV PYTHONDONTWRITEBYTECODE=1 \\
    PYTHONUNBUFFERED=1 \\
    PIP_NO_CACHE_DIR=1 \\
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN useradd --create-home --uid {APP_UID} appuser \\
    && mkdir /app \\
    && chown appuser:appuser /app
WORKDIR /app

{install}
COPY --chown=appuser:appuser . .
USER appuser

# Listen on every interface inside the container; publish the port with -p 8000:8000.
ENV FLUXLIT_GATEWAY_HOST=0.0.0.0 \\
    FLUXLIT_GATEWAY_PORT={PORT}
EXPOSE {PORT}

HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \\
    CMD {json.dumps(["python", "-c", _HEALTHCHECK])}

# Exec form: fluxlit is PID 1 and receives SIGTERM from `docker stop`, then drains and stops Streamlit.
CMD {json.dumps(["fluxlit", "run", target])}
"""


def write_build_files(out: Path, target: str, *, force: bool) -> list[Path]:
    """Write ``Dockerfile`` and ``.dockerignore`` into ``out``; refuse to overwrite unless ``force``."""
    files = {
        out / "Dockerfile": dockerfile(target, requirements=(out / "requirements.txt").is_file()),
        out / ".dockerignore": DOCKERIGNORE,
    }
    existing = [path for path in files if path.exists()]
    if existing and not force:
        names = " and ".join(str(path) for path in existing)
        raise ScaffoldError(f"{names} already exist{'s' if len(existing) == 1 else ''}; pass --force to overwrite")
    out.mkdir(parents=True, exist_ok=True)
    for path, text in files.items():
        path.write_text(text, encoding="utf-8")
    return list(files)


APP_PY = '''\
"""{title}: a FastAPI API under /api and Streamlit pages everywhere else, on one port."""

from fluxlit import ApiClient, FluxLit

app = FluxLit(title="{title}")


@app.api.get("/hello")
def hello(name: str = "world") -> dict[str, str]:
    """Greets ``name``."""
    return {{"hello": name}}


@app.page("/", title="Home")
def home(st, client: ApiClient) -> None:
    st.title("{title}")
    greeting = client.get("/hello", params={{"name": "Streamlit"}}).json()
    st.write(f"The API says hello to **{{greeting['hello']}}**.")
'''

FLUXLIT_TOML = """\
# FluxLit project settings. FLUXLIT_* environment variables and command-line flags override them.
target = "app:app"
gateway_port = 8000
"""

TEST_APP_PY = '''\
"""The API and the pages, tested in-process with FluxLit's test client: no server, no browser."""

from collections.abc import Iterator

import pytest

from app import app
from fluxlit.testing import FluxLitTestClient, assert_no_streamlit_exception


@pytest.fixture
def tc() -> Iterator[FluxLitTestClient]:
    with FluxLitTestClient(app) as client:
        yield client


def test_hello_answers_with_the_name(tc: FluxLitTestClient) -> None:
    response = tc.api.get("/api/hello", params={"name": "tests"})
    assert response.status_code == 200
    assert response.json() == {"hello": "tests"}


def test_health_probe_answers(tc: FluxLitTestClient) -> None:
    assert tc.api.get("/api/healthz").json() == {"status": "ok"}


def test_home_page_shows_the_api_greeting(tc: FluxLitTestClient) -> None:
    at = tc.streamlit("/")
    assert_no_streamlit_exception(at)
    assert "The API says hello to **Streamlit**." in [m.value for m in at.markdown]
'''

README_MD = """\
# {title}

A [FluxLit](https://pypi.org/project/fluxlit/) app: FastAPI under `/api`, Streamlit pages
everywhere else, one port.

```
fluxlit run                 # http://127.0.0.1:8000/ and http://127.0.0.1:8000/api/docs
fluxlit dev --reload        # restart the API on code changes
fluxlit doctor              # check the setup
python -m pytest            # run tests/test_app.py
fluxlit build               # write a Dockerfile and .dockerignore
```

`fluxlit.toml` holds project settings; `FLUXLIT_*` environment variables override them.
The commands assume the Python environment FluxLit is installed in is active
(`source .venv/bin/activate`); otherwise call them by path, as `fluxlit new` printed.
"""


GITIGNORE = """\
# Local environments, caches and runtime files; never commit them.
.venv/
venv/
__pycache__/
*.pyc
.pytest_cache/
.fluxlit.pid
.env
.env.*
"""


def commands_that_work() -> tuple[str, str]:
    """How to call ``fluxlit`` and ``python`` from a new shell: bare names when ``PATH`` finds these
    (an activated venv), else the absolute paths of the ones running now."""
    fluxlit = Path(sys.executable).with_name("fluxlit")
    found = shutil.which("fluxlit")
    bare = found is not None and Path(found).resolve() == fluxlit.resolve()
    return ("fluxlit", "python") if bare else (str(fluxlit), sys.executable)


def new_project(path: Path) -> list[Path]:
    """Create a project directory with an app, its settings, a test and a README."""
    if path.exists():
        raise ScaffoldError(f"{path} already exists; choose another name or remove it")
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", path.name):
        raise ScaffoldError(f"project name {path.name!r} must be letters, digits, '.', '_' or '-' (for example my-app)")
    title = re.sub(r"[-_]+", " ", path.name).strip().title() or "FluxLit app"
    files = {
        path / "app.py": APP_PY.format(title=title),
        path / "fluxlit.toml": FLUXLIT_TOML,
        # tests/ is a package so pytest puts the project directory (and app.py) on sys.path.
        path / "tests" / "__init__.py": "",
        path / "tests" / "test_app.py": TEST_APP_PY,
        path / "README.md": README_MD.format(title=title),
        path / ".gitignore": GITIGNORE,
    }
    for file, text in files.items():
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_text(text, encoding="utf-8")
    return list(files)
