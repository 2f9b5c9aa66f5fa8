"""Real nginx and Caddy in front of a gateway: a generated config in a tmp dir, a free loopback port, always stopped.

The site blocks are the shipped ``examples/proxy`` configs with their addresses pointed at the test
ports, so the tests prove the examples work.
"""

import contextlib
import enum
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.processes import ROOT, Proc, free_port

PREFIX = "/apps/my-app"
EXAMPLES = ROOT / "examples" / "proxy"
EXAMPLE_GATEWAY = "127.0.0.1:8000"
INSTALL_HINT = "run `make system` (apt-get install nginx-light caddy)"


class EdgeKind(str, enum.Enum):
    """Which reverse proxy runs in front."""

    NGINX = "nginx"
    CADDY = "caddy"


class PathMode(str, enum.Enum):
    """How the edge hands the public prefix to the gateway."""

    STRIP = "strip-prefix"
    FULL = "full-path"


@dataclass(frozen=True)
class Edge:
    """A running edge proxy and its public base URLs (without the prefix)."""

    kind: EdgeKind
    proc: Proc
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"


def require_binary(kind: EdgeKind) -> str:
    """Path of the edge binary; a missing one fails the test with the install command."""
    found = shutil.which(kind.value) or shutil.which(kind.value, path="/usr/sbin:/usr/bin")
    if not found:
        pytest.fail(f"{kind.value} is not installed: {INSTALL_HINT}")
    return found


def replace_once(text: str, old: str, new: str, source: str) -> str:
    """``text`` with ``old`` (which must occur exactly once in ``source``) replaced by ``new``."""
    if text.count(old) != 1:
        raise AssertionError(f"{source} should contain {old!r} exactly once")
    return text.replace(old, new)


def example_site(kind: EdgeKind, mode: PathMode, *, gateway_port: int, listen_port: int) -> str:
    """The shipped example for ``kind``/``mode`` with its addresses pointed at the test ports."""
    if kind is EdgeKind.NGINX:
        path = EXAMPLES / f"nginx-{mode.value}.conf"
        site = replace_once(path.read_text(), "listen 80;", f"listen 127.0.0.1:{listen_port};", path.name)
    else:
        path = EXAMPLES / f"Caddyfile.{mode.value}"
        site = replace_once(path.read_text(), "example.com {", f"http://127.0.0.1:{listen_port} {{", path.name)
    return replace_once(site, EXAMPLE_GATEWAY, f"127.0.0.1:{gateway_port}", path.name)


def _nginx_files(site: str, workdir: Path) -> tuple[list[str], dict[str, str]]:
    (workdir / "site.conf").write_text(site)
    temp = "\n".join(f"    {name}_temp_path {workdir / name};" for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    # As root, nginx would switch its workers to `nobody`, which cannot enter pytest's tmp dirs.
    user = "user root;\n" if os.geteuid() == 0 else ""
    (workdir / "nginx.conf").write_text(
        f"{user}worker_processes 1;\ndaemon off;\npid {workdir / 'nginx.pid'};\nerror_log stderr warn;\n"
        f"events {{ worker_connections 512; }}\n"
        f"http {{\n    access_log off;\n{temp}\n    include {workdir / 'site.conf'};\n}}\n"
    )
    return ["-p", str(workdir), "-c", str(workdir / "nginx.conf"), "-e", "stderr"], {}


def _caddy_files(site: str, workdir: Path) -> tuple[list[str], dict[str, str]]:
    # No admin API, no certificates, nothing written outside the tmp dir.
    options = "{\n\tadmin off\n\tauto_https off\n\tdefault_bind 127.0.0.1\n}\n\n"
    (workdir / "Caddyfile").write_text(options + site)
    env = {"HOME": str(workdir), "XDG_DATA_HOME": str(workdir / "data"), "XDG_CONFIG_HOME": str(workdir / "config")}
    return ["run", "--adapter", "caddyfile", "--config", str(workdir / "Caddyfile")], env


@contextlib.contextmanager
def edge_proxy(kind: EdgeKind, site: str, *, listen_port: int, workdir: Path, ready_path: str) -> Iterator[Edge]:
    """Run ``kind`` with ``site`` (an nginx http-context snippet or a Caddyfile site block) until the block exits."""
    binary = require_binary(kind)
    workdir.mkdir(parents=True, exist_ok=True)
    args, env = (_nginx_files if kind is EdgeKind.NGINX else _caddy_files)(site, workdir)
    edge = Edge(kind, Proc([binary, *args], cwd=workdir, env=env), listen_port)
    try:
        edge.proc.wait_http(edge.url + ready_path, timeout=30)
        yield edge
    finally:
        edge.proc.stop()


@contextlib.contextmanager
def example_edge(kind: EdgeKind, mode: PathMode, *, gateway_port: int, workdir: Path) -> Iterator[Edge]:
    """The shipped example config for ``kind``/``mode`` in front of the gateway on ``gateway_port``."""
    port = free_port()
    site = example_site(kind, mode, gateway_port=gateway_port, listen_port=port)
    with edge_proxy(kind, site, listen_port=port, workdir=workdir, ready_path=PREFIX + "/api/healthz") as edge:
        yield edge
