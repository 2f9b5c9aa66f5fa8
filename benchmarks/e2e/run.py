"""End-to-end proxy benchmark: the FluxLit gateway lanes next to no proxy, nginx and plain uvicorn, in one run.

Upstream: nginx serving 1 KiB and 1 MiB files, discarding POST bodies at /sink, and proxying
``/_stcore/stream`` to a fast WebSocket echo. Targets:

- direct        client -> upstream
- gateway       client -> ``fluxlit run``, fast lane, compiled kernels -> upstream
- gateway-pure  the same with FLUXLIT_PURE_PYTHON=1
- gateway-asgi  compiled, FLUXLIT_GATEWAY_LANE=asgi (uvicorn ASGI + aiohttp)
- nginx         client -> nginx as reverse proxy -> upstream
- uvicorn       plain uvicorn serving the same FastAPI app (the /api workload only)

Writes ``results.json`` and ``results.md``: medians over rounds, ratios of those medians and the
targets met or not. ``--check`` exits 1 on a gross regression only (a workload erroring, the fast
lane slower than the ASGI lane, compiled much slower than pure); absolute numbers and the targets
never fail it.
"""

import argparse
import asyncio
import json
import operator
import os
import re
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TypeVar

import httpx
import psutil
from websockets.asyncio.client import connect

HERE = Path(__file__).resolve().parent
MiB = 1024 * 1024
LOAD_CPU, SERVER_CPU = "1", "0"
T = TypeVar("T")

# What `fluxlit run --lane` sets; a FluxLit without lanes ignores it (then both lanes are the ASGI path).
LANE_ENV = "FLUXLIT_GATEWAY_LANE"
GATEWAYS: dict[str, dict[str, str]] = {
    "gateway": {"FLUXLIT_PURE_PYTHON": "0", LANE_ENV: "fast"},
    "gateway-asgi": {"FLUXLIT_PURE_PYTHON": "0", LANE_ENV: "asgi"},
    "gateway-pure": {"FLUXLIT_PURE_PYTHON": "1", LANE_ENV: "fast"},
}
TARGETS = ["direct", "gateway", "gateway-pure", "gateway-asgi", "nginx", "uvicorn"]
SLOW_UPLOADS = 1000
"""Trickling uploads held open while small GETs are timed (the gateways only: they hold no upstream connection)."""
RATIOS: dict[str, tuple[str, str]] = {
    "gateway/direct": ("gateway", "direct"),
    "gateway/nginx": ("gateway", "nginx"),
    "gateway/asgi": ("gateway", "gateway-asgi"),
    "compiled/pure": ("gateway", "gateway-pure"),
    "gateway/uvicorn": ("gateway", "uvicorn"),
}
# Metric -> True when lower is better (↓ in the table), False when higher is better (↑).
METRICS: dict[str, bool] = {
    "small_get_rps": False,
    "small_get_rps_per_cpu_s": False,
    "cpu_s_per_10k": True,
    "small_get_p50_ms": True,
    "small_get_p99_ms": True,
    "small_get_c64_p99_ms": True,
    "api_get_rps": False,
    "api_get_rps_per_cpu_s": False,
    "1mib_get_mb_s": False,
    "1mib_get_rss_growth_mib": True,
    "50mib_post_mb_s": False,
    "post_rss_growth_mib": True,
    "post_peak_rss_mib": True,
    "ws_echo_p50_ms": True,
    "ws_echo_added_p50_ms": True,
    "ws_echo_p99_ms": True,
    "ws_echo_msgs_per_s": False,
    "ws_64k_mb_s": False,
    "idle_ws_kib_each": True,
    "slow_uploads_get_p95_ms": True,
}

# --check floors: (metric, ratio) -> the lowest acceptable value. Gross regressions only.
FLOORS: dict[tuple[str, str], float] = {
    # The fast lane must not be slower than the ASGI lane. On a FluxLit without lanes both run the
    # same code, so this ratio hovers around 1.0 and fails on noise about half the time.
    ("small_get_rps_per_cpu_s", "gateway/asgi"): 1.0,
    # Compiled kernels must not be slower than pure Python; 0.9 leaves room for noise.
    ("small_get_rps_per_cpu_s", "compiled/pure"): 0.9,
}


@dataclass(frozen=True)
class Bound:
    """One condition of a goal: the ratio (``of`` = "gateway/nginx") or a target's value (``of`` = "gateway")."""

    metric: str
    of: str
    op: str  # ">=", "<=" or "<"
    limit: float


@dataclass(frozen=True)
class Goal:
    workload: str
    wanted: str
    bounds: tuple[Bound, ...]


GOALS = (
    Goal("small GET requests per gateway CPU-second", "≥ 0.5× nginx's, and ≥ 3× the ASGI lane's",
         (Bound("small_get_rps_per_cpu_s", "gateway/nginx", ">=", 0.5), Bound("small_get_rps_per_cpu_s", "gateway/asgi", ">=", 3))),
    Goal("small GET p99 at 64 connections", "≤ 2× nginx's", (Bound("small_get_c64_p99_ms", "gateway/nginx", "<=", 2),)),
    Goal("compiled vs pure, small GET per CPU-second", "≥ 1.3×", (Bound("small_get_rps_per_cpu_s", "compiled/pure", ">=", 1.3),)),
    Goal("WebSocket echo, latency added over direct (p50)", "≤ 1.5× nginx's added latency",
         (Bound("ws_echo_added_p50_ms", "gateway/nginx", "<=", 1.5),)),
    Goal("WebSocket 64 KiB messages, MB/s", "≥ 0.9× direct", (Bound("ws_64k_mb_s", "gateway/direct", ">=", 0.9),)),
    Goal("RSS per idle proxied WebSocket (1000 open)", "≤ 8 KiB", (Bound("idle_ws_kib_each", "gateway", "<=", 8),)),
    Goal("1 MiB GET and 50 MiB POST, MB/s", "≥ nginx; gateway RSS growth < 5 MiB",
         (Bound("1mib_get_mb_s", "gateway/nginx", ">=", 1), Bound("50mib_post_mb_s", "gateway/nginx", ">=", 1),
          Bound("1mib_get_rss_growth_mib", "gateway", "<", 5), Bound("post_rss_growth_mib", "gateway", "<", 5))),
    Goal("/api small GET per CPU-second", "≥ 0.9× plain uvicorn", (Bound("api_get_rps_per_cpu_s", "gateway/uvicorn", ">=", 0.9),)),
    Goal(f"small GET p95 while {SLOW_UPLOADS} uploads trickle 1 byte/s", "≤ 50 ms",
         (Bound("slow_uploads_get_p95_ms", "gateway", "<=", 50),)),
)  # fmt: skip
_OPS: dict[str, Callable[[float, float], bool]] = {">=": operator.ge, "<=": operator.le, "<": operator.lt}


# --- servers -----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_port(port: int, proc: subprocess.Popen[bytes], log: IO[bytes], timeout: float = 60) -> None:
    """Return once ``port`` accepts connections; fail fast with the log tail if ``proc`` exits first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            log.seek(0)
            tail = log.read().decode(errors="replace")[-2000:]
            raise RuntimeError(f"{proc.args!r} exited with {proc.returncode} before listening on {port}:\n{tail}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {timeout}s")


def stop(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then SIGKILL; children (nginx workers) are killed too."""
    kids = psutil.Process(proc.pid).children(recursive=True) if proc.poll() is None else []
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)
    for kid in kids:
        try:
            kid.kill()
        except psutil.NoSuchProcess:
            pass


@contextmanager
def process(args: list[str], *, cwd: Path, port: int, env: dict[str, str] | None = None) -> Iterator[subprocess.Popen[bytes]]:
    """A server pinned to the server core, listening on ``port`` once yielded, always stopped on exit."""
    command = ["taskset", "-c", SERVER_CPU, *args] if shutil.which("taskset") else args
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen(command, cwd=cwd, env={**os.environ, **(env or {})}, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            wait_port(port, proc, log)
            yield proc
        finally:
            stop(proc)


def nginx_conf(workdir: Path, port: int, body: str, http_extra: str = "") -> list[str]:
    """The nginx command line for a one-worker server on ``port`` with ``body`` in its server block."""
    conf = workdir / f"nginx-{port}.conf"
    conf.write_text(
        f"""
daemon off;
worker_processes 1;
pid {workdir}/nginx-{port}.pid;
error_log {workdir}/nginx-{port}.err warn;
events {{ worker_connections 8192; }}
http {{
  {http_extra}
  access_log off;
  client_body_temp_path {workdir}/body-{port};
  proxy_temp_path {workdir}/proxy-{port};
  fastcgi_temp_path {workdir}/fcgi-{port}; uwsgi_temp_path {workdir}/uwsgi-{port}; scgi_temp_path {workdir}/scgi-{port};
  # An empty Connection for plain requests keeps nginx's upstream connections alive (keepalive 64);
  # "close" here would make nginx open a connection per request and flatter every ratio against it.
  map $http_upgrade $connection_upgrade {{ default upgrade; '' ''; }}
  server {{
    listen 127.0.0.1:{port};
    client_max_body_size 0;
    {body}
  }}
}}
"""
    )
    return ["nginx", "-c", str(conf), "-p", str(workdir)]


def upstream_nginx(workdir: Path, port: int, echo_port: int) -> list[str]:
    files = workdir / "files"
    files.mkdir(exist_ok=True)
    (files / "1k").write_bytes(os.urandom(1024))
    (files / "1m").write_bytes(os.urandom(MiB))
    body = f"""
    root {files};
    location = /_stcore/health {{ return 200 "ok"; }}
    location = / {{ return 200 "ok"; }}
    location = /sink {{ return 200 "ok"; }}
    location /_stcore/stream {{
      proxy_pass http://127.0.0.1:{echo_port};
      proxy_http_version 1.1;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $connection_upgrade;
      proxy_read_timeout 1h;
    }}
    """
    return nginx_conf(workdir, port, body)


def proxy_nginx(workdir: Path, port: int, upstream_port: int) -> list[str]:
    body = """
    proxy_request_buffering off;
    location / {
      proxy_pass http://up;
      proxy_http_version 1.1;
      proxy_set_header Host $host;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $connection_upgrade;
      proxy_read_timeout 1h;
    }
    """
    return nginx_conf(workdir, port, body, http_extra=f"upstream up {{ server 127.0.0.1:{upstream_port}; keepalive 64; }}")


def gateway_command(port: int) -> list[str]:
    return [str(Path(sys.executable).parent / "fluxlit"), "run", "app:app", "--port", str(port), "--loop", "uvloop"]


def uvicorn_command(port: int) -> list[str]:
    return [sys.executable, "-m", "uvicorn", "app:api", "--host", "127.0.0.1", "--port", str(port),
            "--loop", "uvloop", "--http", "httptools", "--no-access-log", "--log-level", "warning"]  # fmt: skip


def worker_pid(proc: subprocess.Popen[bytes]) -> int:
    """The process doing the work: nginx's worker, else the process itself (taskset execs in place)."""
    kids = psutil.Process(proc.pid).children()
    workers = [k for k in kids if "worker" in " ".join(k.cmdline())]
    return workers[0].pid if workers else proc.pid


# --- measurements ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    name: str
    url: str  # http://127.0.0.1:PORT
    pid: int | None  # the process whose CPU and RSS count; None for direct
    proxies: bool = True  # runs the proxy workloads (plain uvicorn does not proxy)
    api_path: str | None = None  # a tiny FastAPI route, for the /api workload

    @property
    def ws_url(self) -> str:
        return "ws" + self.url.removeprefix("http") + "/_stcore/stream"


@contextmanager
def served(name: str, command: Callable[[int], list[str]], env: dict[str, str], *, ready: str, proxies: bool = True) -> Iterator[Target]:
    """Start ``command`` on a free port; yield it as a target once ``ready`` (its API route) answers 2xx."""
    port = free_port()
    with process(command(port), cwd=HERE, port=port, env=env) as proc:
        url = f"http://127.0.0.1:{port}"
        httpx.get(url + ready).raise_for_status()
        yield Target(name, url, proc.pid, proxies, api_path=ready)


@dataclass(frozen=True)
class Load:
    seconds: float
    idle_ws: int
    payload: Path  # the 50 MiB POST body

    @property
    def short(self) -> bool:
        return self.seconds < 5


def cpu_seconds(pid: int) -> float:
    times = psutil.Process(pid).cpu_times()
    return times.user + times.system


def peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def rss_mib(pid: int) -> float:
    return psutil.Process(pid).memory_info().rss / MiB


def with_cpu(pid: int | None, work: Callable[[], T]) -> tuple[T, float | None]:
    """``work``'s result and the CPU-seconds ``pid`` used meanwhile (None without a pid)."""
    if pid is None:
        return work(), None
    before = cpu_seconds(pid)
    result = work()
    return result, cpu_seconds(pid) - before


def with_rss_growth(pid: int | None, work: Callable[[], T]) -> tuple[T, float | None]:
    """``work``'s result and ``pid``'s peak RSS (sampled every 5 ms) minus its RSS just before, in MiB."""
    if pid is None:
        return work(), None
    proc = psutil.Process(pid)
    before = peak = proc.memory_info().rss
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.wait(0.005):
            peak = max(peak, proc.memory_info().rss)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        result = work()
    finally:
        done.set()
        sampler.join()
    return result, (max(peak, proc.memory_info().rss) - before) / MiB


_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3}
_SIZE = {"B": 1 / MiB, "KB": 1 / 1024, "MB": 1.0, "GB": 1024.0}


def client(args: list[str], timeout: float) -> str:
    """Run a load tool pinned to the load core; its stdout, or an error carrying its stderr."""
    result = subprocess.run(["taskset", "-c", LOAD_CPU, *args], capture_output=True, text=True, timeout=timeout)
    if result.returncode:
        raise RuntimeError(f"{' '.join(args)} exited with {result.returncode}: {result.stderr.strip()}")
    return result.stdout


def wrk(url: str, *, seconds: float, connections: int) -> dict[str, float]:
    out = client(["wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--latency", url], timeout=seconds + 30)
    if "Non-2xx" in out or "Socket errors" in out:
        summary = "; ".join(line.strip() for line in out.splitlines() if re.search("Non-2xx|Socket errors|requests in", line))
        raise RuntimeError(f"wrk against {url}: {summary}")

    def find(pattern: str) -> tuple[str, ...]:
        match = re.search(pattern, out)
        if match is None:
            raise RuntimeError(f"no {pattern!r} in wrk's output:\n{out}")
        return match.groups()

    def latency(pct: str) -> float:
        value, unit = find(rf"\s{pct}%\s+([\d.]+)(us|ms|s)")
        return float(value) * _UNITS[unit]

    transfer, unit = find(r"Transfer/sec:\s+([\d.]+)(B|KB|MB|GB)")
    return {
        "rps": float(find(r"Requests/sec:\s+([\d.]+)")[0]),
        "p50_ms": latency("50"),
        "p99_ms": latency("99"),
        "mb_s": float(transfer) * _SIZE[unit],
        "requests": int(find(r"(\d+) requests in")[0]),
    }


def post(url: str, payload: Path) -> float:
    """POST ``payload`` with curl; MB/s."""
    started = time.perf_counter()
    status = client(["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "--data-binary", f"@{payload}",
                     "-H", "Content-Type: application/octet-stream", "-H", "Expect:", url], timeout=120)  # fmt: skip
    if status != "200":
        raise RuntimeError(f"POST {url} answered {status}")
    return payload.stat().st_size / MiB / (time.perf_counter() - started)


async def ws_round_trips(url: str, count: int) -> list[float]:
    async with connect(url, compression=None, max_size=None) as ws:
        timings = []
        message = b"x" * 64
        for _ in range(count):
            started = time.perf_counter()
            await ws.send(message)
            await ws.recv()
            timings.append((time.perf_counter() - started) * 1000)
        return timings


async def ws_throughput(url: str, count: int) -> float:
    message = os.urandom(64 * 1024)
    async with connect(url, compression=None, max_size=None, write_limit=4 * MiB) as ws:
        started = time.perf_counter()

        async def send() -> None:
            for _ in range(count):
                await ws.send(message)

        sender = asyncio.ensure_future(send())
        for _ in range(count):
            await ws.recv()
        await sender
        return count * len(message) / MiB / (time.perf_counter() - started)


async def ws_idle_rss(url: str, count: int, pid: int) -> float:
    before = rss_mib(pid)
    connections = await asyncio.gather(*(connect(url, compression=None, ping_interval=None) for _ in range(count)))
    await asyncio.sleep(1.0)
    after = rss_mib(pid)
    await asyncio.gather(*(c.close() for c in connections))
    return (after - before) * 1024 / count


async def get_latencies_while_uploads_trickle(url: str, seconds: float) -> list[float]:
    """Milliseconds per small GET, sent one after another while ``SLOW_UPLOADS`` uploads send 1 byte a second."""
    host, port = url.removeprefix("http://").split(":")
    writers = []
    for _ in range(SLOW_UPLOADS):
        _, writer = await asyncio.open_connection(host, int(port))
        writer.write(b"POST /sink HTTP/1.1\r\nHost: bench\r\nContent-Length: 1000000\r\n\r\n")
        writers.append(writer)

    async def trickle() -> None:
        while True:
            for writer in writers:
                writer.write(b"x")
            await asyncio.sleep(1.0)

    trickling = asyncio.ensure_future(trickle())
    timings = []
    try:
        async with httpx.AsyncClient() as http:
            deadline = time.perf_counter() + seconds
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                (await http.get(url + "/1k")).raise_for_status()
                timings.append((time.perf_counter() - started) * 1000)
    finally:
        trickling.cancel()
        for writer in writers:
            writer.close()
    return timings


def per_cpu(prefix: str, requests: float, cpu: float | None) -> dict[str, float]:
    return {f"{prefix}_rps_per_cpu_s": requests / cpu} if cpu else {}


def small_get(target: Target, load: Load) -> dict[str, float]:
    # Unmeasured warm-up: without it whichever gateway runs first in a round scores a few % lower.
    wrk(target.url + "/1k", seconds=1, connections=32)
    stats, cpu = with_cpu(target.pid, lambda: wrk(target.url + "/1k", seconds=load.seconds, connections=32))
    c64 = wrk(target.url + "/1k", seconds=load.seconds, connections=64)
    metrics = {"small_get_rps": stats["rps"], "small_get_p50_ms": stats["p50_ms"], "small_get_p99_ms": stats["p99_ms"], "small_get_c64_p99_ms": c64["p99_ms"]}
    if cpu:
        metrics["cpu_s_per_10k"] = cpu / stats["requests"] * 10_000
    return metrics | per_cpu("small_get", stats["requests"], cpu)


def large_get(target: Target, load: Load) -> dict[str, float]:
    stats, growth = with_rss_growth(target.pid, lambda: wrk(target.url + "/1m", seconds=load.seconds, connections=8))
    metrics = {"1mib_get_mb_s": stats["mb_s"]}
    if growth is not None:
        metrics["1mib_get_rss_growth_mib"] = growth
    return metrics


def large_post(target: Target, load: Load) -> dict[str, float]:
    # One 50 MiB upload takes tens of milliseconds: the median of several is the figure.
    repeats = 3 if load.short else 5
    mb_s, growth = with_rss_growth(target.pid, lambda: statistics.median(post(target.url + "/sink", load.payload) for _ in range(repeats)))
    metrics = {"50mib_post_mb_s": mb_s}
    if target.pid is not None and growth is not None:
        metrics |= {"post_rss_growth_mib": growth, "post_peak_rss_mib": peak_rss_mib(target.pid)}
    return metrics


def websockets(target: Target, load: Load) -> dict[str, float]:
    timings = asyncio.run(ws_round_trips(target.ws_url, 500 if load.short else 2000))
    metrics = {
        "ws_echo_p50_ms": statistics.median(timings),
        "ws_echo_p99_ms": statistics.quantiles(timings, n=100)[98],
        "ws_echo_msgs_per_s": len(timings) / (sum(timings) / 1000),
        "ws_64k_mb_s": asyncio.run(ws_throughput(target.ws_url, 100 if load.short else 400)),
    }
    if target.pid:
        metrics["idle_ws_kib_each"] = asyncio.run(ws_idle_rss(target.ws_url, load.idle_ws, target.pid))
    return metrics


def slow_uploads(target: Target, load: Load) -> dict[str, float]:
    timings = asyncio.run(get_latencies_while_uploads_trickle(target.url, max(load.seconds, 3)))
    return {"slow_uploads_get_p95_ms": statistics.quantiles(timings, n=20)[18]}


def api_get(target: Target, load: Load) -> dict[str, float]:
    stats, cpu = with_cpu(target.pid, lambda: wrk(target.url + str(target.api_path), seconds=load.seconds, connections=32))
    return {"api_get_rps": stats["rps"]} | per_cpu("api_get", stats["requests"], cpu)


@dataclass
class Results:
    rounds: dict[str, dict[str, list[float]]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    def add(self, target: str, metrics: dict[str, float]) -> None:
        for metric, value in metrics.items():
            self.rounds.setdefault(target, {}).setdefault(metric, []).append(value)

    def error(self, label: str, exc: Exception) -> None:
        self.errors.append(f"{label}: {type(exc).__name__}: {exc}")
        print(f"    error in {label}: {exc}", file=sys.stderr, flush=True)

    def medians(self) -> dict[str, dict[str, float]]:
        return {t: {m: statistics.median(v) for m, v in ms.items()} for t, ms in self.rounds.items()}


def measure(target: Target, results: Results, load: Load) -> None:
    """Every workload that applies to ``target``; a failing one is recorded and the rest still run."""
    print(f"  {target.name}", file=sys.stderr, flush=True)
    workloads = [*((small_get, large_get, large_post, websockets) if target.proxies else ()), *((api_get,) if target.api_path else ()),
                 *((slow_uploads,) if target.name in GATEWAYS else ())]  # fmt: skip
    for workload in workloads:
        try:
            results.add(target.name, workload(target, load))
        except Exception as exc:  # noqa: BLE001 - reported, and fails the run at the end
            results.error(f"{target.name} {workload.__name__}", exc)


def measure_served(name: str, command: Callable[[int], list[str]], env: dict[str, str], ready: str, results: Results, load: Load, *, proxies: bool = True) -> None:
    """Start a per-round server, measure it, stop it; a server that fails to start is recorded as an error."""
    try:
        with served(name, command, env, ready=ready, proxies=proxies) as target:
            measure(target, results, load)
    except Exception as exc:  # noqa: BLE001 - reported, and fails the run at the end
        results.error(f"{name} server", exc)


# --- report ------------------------------------------------------------------------------------

Medians = dict[str, dict[str, float]]
Ratios = dict[str, dict[str, float | None]]


def with_added_latency(medians: Medians) -> Medians:
    """Add ``ws_echo_added_p50_ms``: each target's echo p50 minus direct's."""
    direct = medians.get("direct", {}).get("ws_echo_p50_ms")
    added = {t: dict(ms) for t, ms in medians.items()}
    for name, ms in added.items():
        if direct is not None and name != "direct" and "ws_echo_p50_ms" in ms:
            ms["ws_echo_added_p50_ms"] = ms["ws_echo_p50_ms"] - direct
    return added


def ratio(medians: Medians, a: str, b: str, metric: str) -> float | None:
    x, y = medians.get(a, {}).get(metric), medians.get(b, {}).get(metric)
    return round(x / y, 3) if x is not None and y is not None and y > 0 else None


def ratios_of(medians: Medians) -> Ratios:
    return {m: {name: ratio(medians, a, b, m) for name, (a, b) in RATIOS.items()} for m in METRICS}


def observed(bound: Bound, medians: Medians, ratios: Ratios) -> float | None:
    return ratios[bound.metric][bound.of] if "/" in bound.of else medians.get(bound.of, {}).get(bound.metric)


@dataclass(frozen=True)
class GoalStatus:
    goal: Goal
    measured: dict[str, float | None]  # "metric of" -> value
    met: bool | None  # None: not measured

    @classmethod
    def of(cls, goal: Goal, medians: Medians, ratios: Ratios) -> "GoalStatus":
        values = [observed(b, medians, ratios) for b in goal.bounds]
        checks = [None if v is None else _OPS[b.op](v, b.limit) for b, v in zip(goal.bounds, values)]
        met = False if False in checks else None if None in checks else True
        return cls(goal, {f"{b.metric} {b.of}": v for b, v in zip(goal.bounds, values)}, met)

    def as_json(self) -> dict[str, object]:
        return {"workload": self.goal.workload, "target": self.goal.wanted, "measured": self.measured, "met": self.met}

    def row(self) -> list[str]:
        one_metric = len({b.metric for b in self.goal.bounds}) == 1
        measured = "; ".join(f"{key.split()[1] if one_metric else key} = {fmt(v)}" for key, v in self.measured.items())
        return [self.goal.workload, self.goal.wanted, measured, {True: "met", False: "not met", None: "not measured"}[self.met]]


def fmt(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.3g}"


def table(head: list[str], rows: list[list[str]]) -> str:
    lines = [head, ["---"] * len(head), *rows]
    return "\n".join("| " + " | ".join(cells) + " |" for cells in lines)


@dataclass(frozen=True)
class Report:
    seconds: float
    rounds: int
    idle_websockets: int
    medians: Medians
    ratios: Ratios
    goals: list[GoalStatus]
    errors: list[str]
    raw: dict[str, dict[str, list[float]]]

    @classmethod
    def of(cls, results: Results, seconds: float, rounds: int, idle_websockets: int) -> "Report":
        medians = with_added_latency(results.medians())
        ratios = ratios_of(medians)
        goals = [GoalStatus.of(goal, medians, ratios) for goal in GOALS]
        return cls(seconds, rounds, idle_websockets, medians, ratios, goals, results.errors, results.rounds)

    def as_json(self) -> dict[str, object]:
        return {
            "seconds": self.seconds, "rounds": self.rounds, "idle_websockets": self.idle_websockets, "gateways": GATEWAYS,
            "medians": self.medians, "ratios": self.ratios, "targets": [g.as_json() for g in self.goals],
            "errors": self.errors, "raw": self.raw,
        }  # fmt: skip

    def markdown(self) -> str:
        lanes = "; ".join(f"{name}: " + " ".join(f"{k}={v}" for k, v in env.items()) for name, env in GATEWAYS.items())
        metric_rows = [
            [f"`{m}` {'↓' if lower else '↑'}", *(fmt(self.medians.get(t, {}).get(m)) for t in TARGETS), *(fmt(self.ratios[m][r]) for r in RATIOS)]
            for m, lower in METRICS.items()
        ]
        parts = [
            f"Medians of {self.rounds} round(s), {self.seconds:g} s per wrk run, {self.idle_websockets} idle WebSockets; "
            "ratios are of those medians. ↑ higher is better, ↓ lower is better.",
            f"Gateways: {lanes}.",
            table(["metric", *TARGETS, *RATIOS], metric_rows),
            "### Targets",
            table(["workload", "target", "measured", "status"], [g.row() for g in self.goals]),
        ]
        if self.errors:
            parts += ["### Errors", "\n".join(f"- {e}" for e in self.errors)]
        return "\n\n".join(parts) + "\n"

    def verdict(self, *, floors: bool) -> str:
        """One closing line: PASS or FAIL (and why), and how many targets were met."""
        met = sum(g.met is True for g in self.goals)
        problems = self.problems(floors=floors)
        checked = "no workload errored" + (", no ratio below its gross-regression floor" if floors else "")
        outcome = f"FAIL: {'; '.join(problems)}" if problems else f"PASS: {checked}"
        return f"verdict: {outcome} ({met} of {len(self.goals)} targets met)"

    def problems(self, *, floors: bool) -> list[str]:
        """Workload errors, plus (with ``floors``) the ratios below FLOORS."""
        problems = list(self.errors)
        if not floors:
            return problems
        for (metric, kind), floor in FLOORS.items():
            value = self.ratios[metric][kind]
            if value is None or value < floor:
                problems.append(f"{metric} {kind} = {value} is below the floor {floor}")
        return problems


# --- driver ------------------------------------------------------------------------------------


def run(seconds: float, rounds: int, idle_ws: int) -> Results:
    results = Results()
    with tempfile.TemporaryDirectory(prefix="fluxlit-bench-") as tmp, ExitStack() as stack:
        workdir = Path(tmp)
        workdir.chmod(0o755)  # nginx workers run unprivileged and must read the files
        load = Load(seconds, idle_ws, workdir / "50mib.bin")
        load.payload.write_bytes(os.urandom(50 * MiB))
        echo_port, up_port, nginx_port = free_port(), free_port(), free_port()
        stack.enter_context(process([sys.executable, str(HERE / "ws_echo.py"), str(echo_port)], cwd=HERE, port=echo_port))
        stack.enter_context(process(upstream_nginx(workdir, up_port, echo_port), cwd=workdir, port=up_port))
        nginx = stack.enter_context(process(proxy_nginx(workdir, nginx_port, up_port), cwd=workdir, port=nginx_port))
        upstream = f"http://127.0.0.1:{up_port}"
        standing = [Target("direct", upstream, None), Target("nginx", f"http://127.0.0.1:{nginx_port}", worker_pid(nginx))]
        gateway_env = {"FLUXLIT_STREAMLIT_UPSTREAM": upstream, "FLUXLIT_LOG_LEVEL": "warning"}
        for number in range(1, rounds + 1):
            print(f"round {number}/{rounds}", file=sys.stderr, flush=True)
            for target in standing:
                measure(target, results, load)
            for name, env in GATEWAYS.items():
                measure_served(name, gateway_command, gateway_env | env, "/api/ping", results, load)
            measure_served("uvicorn", uvicorn_command, {}, "/ping", results, load, proxies=False)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=10, help="duration of each wrk run")
    parser.add_argument("--rounds", type=int, default=3, help="repeat everything and report medians")
    parser.add_argument("--idle-websockets", type=int, default=1000, help="open WebSockets for the RSS-per-socket figure")
    parser.add_argument("--out", type=Path, default=Path("benchmark-results"), help="where results.json and results.md go")
    parser.add_argument("--check", action="store_true", help="also exit 1 when a ratio falls below its gross-regression floor")
    args = parser.parse_args()
    for tool in ("nginx", "wrk", "curl"):
        if not shutil.which(tool):
            sys.exit(f"benchmark needs {tool}: run `make system` (apt-get install nginx-light wrk curl)")
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # the trickling uploads hold a descriptor each
    started = time.monotonic()
    report = Report.of(run(args.seconds, args.rounds, args.idle_websockets), args.seconds, args.rounds, args.idle_websockets)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps(report.as_json(), indent=2, ensure_ascii=False))
    (args.out / "results.md").write_text(report.markdown())
    print(report.markdown())
    print(f"benchmark took {time.monotonic() - started:.0f} s", file=sys.stderr)
    print(report.verdict(floors=args.check))
    if problems := report.problems(floors=args.check):
        sys.exit("benchmark failed:\n  " + "\n  ".join(problems))


if __name__ == "__main__":
    main()
