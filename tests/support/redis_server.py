"""A real ``redis-server`` on a free loopback port, no persistence, always stopped."""

import contextlib
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.processes import Proc, free_port


@contextlib.contextmanager
def redis_server(workdir: Path) -> Iterator[str]:
    """Run redis-server until the block exits; yields its ``redis://`` URL."""
    binary = shutil.which("redis-server") or shutil.which("redis-server", path="/usr/sbin:/usr/bin")
    if not binary:
        pytest.fail("redis-server is not installed: run `make system` (apt-get install redis-server)")
    import redis

    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    proc = Proc([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", str(workdir)], cwd=workdir)
    url = f"redis://127.0.0.1:{port}/0"
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=1)
        deadline = time.monotonic() + 20
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if time.monotonic() > deadline or proc.popen.poll() is not None:
                    raise AssertionError("redis-server did not start:\n" + proc.output()) from None
                time.sleep(0.05)
        client.close()
        yield url
    finally:
        proc.stop()
