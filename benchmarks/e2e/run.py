"""End-to-end proxy benchmark: the FluxLit gateway next to no proxy (direct) and nginx, in one run.

Upstream: nginx serving 1 KiB and 1 MiB files, discarding POST bodies at /sink, and proxying
``/_stcore/stream`` to a fast WebSocket echo. The same workloads run against every target:

- direct   client -> upstream
- gateway  client -> ``fluxlit run`` (compiled kernels, then FLUXLIT_PURE_PYTHON=1) -> upstream
- nginx    client -> nginx as reverse proxy -> upstream

Writes ``results.json`` and ``results.md`` (ratios gateway/direct, gateway/nginx, compiled/pure).
``--check`` exits 1 on a gross regression only (a workload erroring, compiled much slower than
pure, the gateway absurdly slower than nginx); absolute numbers never fail it.
"""

import argparse
import asyncio
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psutil
from websockets.asyncio.client import connect

HERE = Path(__file__).resolve().parent
MiB = 1024 * 1024
LOAD_CPU, SERVER_CPU = "1", "0"

# Gross-regression floors for --check (ratios of medians measured in the same run).
FLOORS = {
    ("small_get_rps", "compiled/pure"): 0.6,
    ("small_get_rps", "gateway/nginx"): 0.03,
    ("ws_echo_msgs_per_s", "compiled/pure"): 0.6,
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_port(port: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {timeout}s")


@contextmanager
def process(args: list[str], *, cwd: Path, env: dict[str, str] | None = None, cpu: str | None = SERVER_CPU) -> Iterator[subprocess.Popen[bytes]]:
    """A server process pinned to the server core, always stopped (with its children) on exit."""
    command = ["taskset", "-c", cpu, *args] if cpu and shutil.which("taskset") else args
    log = tempfile.TemporaryFile()
    proc = subprocess.Popen(command, cwd=cwd, env={**os.environ, **(env or {})}, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        yield proc
    finally:
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


def nginx_conf(workdir: Path, port: int, body: str) -> Path:
    conf = workdir / f"nginx-{port}.conf"
    conf.write_text(
        f"""
daemon off;
worker_processes 1;
pid {workdir}/nginx-{port}.pid;
error_log {workdir}/nginx-{port}.err warn;
events {{ worker_connections 8192; }}
http {{
  access_log off;
  client_body_temp_path {workdir}/body-{port};
  proxy_temp_path {workdir}/proxy-{port};
  fastcgi_temp_path {workdir}/fcgi-{port}; uwsgi_temp_path {workdir}/uwsgi-{port}; scgi_temp_path {workdir}/scgi-{port};
  map $http_upgrade $connection_upgrade {{ default upgrade; '' close; }}
  server {{
    listen 127.0.0.1:{port};
    client_max_body_size 0;
    {body}
  }}
}}
"""
    )
    return conf


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
    return ["nginx", "-c", str(nginx_conf(workdir, port, body)), "-p", str(workdir)]


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
    conf = nginx_conf(workdir, port, body)
    text = conf.read_text().replace("http {", f"http {{\n  upstream up {{ server 127.0.0.1:{upstream_port}; keepalive 64; }}", 1)
    conf.write_text(text)
    return ["nginx", "-c", str(conf), "-p", str(workdir)]


def server_pid(proc: subprocess.Popen[bytes]) -> int:
    """The process doing the proxying (nginx: its worker; taskset execs in place)."""
    kids = psutil.Process(proc.pid).children()
    workers = [k for k in kids if "worker" in " ".join(k.cmdline())]
    return workers[0].pid if workers else proc.pid


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


_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3}
_SIZE = {"B": 1 / MiB, "KB": 1 / 1024, "MB": 1.0, "GB": 1024.0}


def wrk(url: str, *, seconds: float, connections: int) -> dict[str, float]:
    out = subprocess.run(
        ["taskset", "-c", LOAD_CPU, "wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--latency", url],
        capture_output=True, text=True, check=True, timeout=seconds + 30,
    ).stdout  # fmt: skip
    if "Non-2xx" in out or "Socket errors" in out:
        raise RuntimeError(f"wrk saw errors against {url}:\n{out}")

    def latency(pct: str) -> float:
        value, unit = re.search(rf"\s{pct}%\s+([\d.]+)(us|ms|s)", out).groups()
        return float(value) * _UNITS[unit]

    transfer, unit = re.search(r"Transfer/sec:\s+([\d.]+)(B|KB|MB|GB)", out).groups()
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "p50_ms": latency("50"),
        "p99_ms": latency("99"),
        "mb_s": float(transfer) * _SIZE[unit],
        "requests": requests,
    }


def post_50mib(url: str, payload: Path) -> float:
    started = time.perf_counter()
    result = subprocess.run(
        ["taskset", "-c", LOAD_CPU, "curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "--data-binary", f"@{payload}",
         "-H", "Content-Type: application/octet-stream", "-H", "Expect:", url],
        capture_output=True, text=True, check=True, timeout=120,
    )  # fmt: skip
    if result.stdout != "200":
        raise RuntimeError(f"POST {url} answered {result.stdout}: {result.stderr}")
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


@dataclass
class Target:
    name: str
    url: str
    ws_url: str
    pid: int | None  # the proxy's pid; None for direct


@dataclass
class Results:
    rounds: dict[str, dict[str, list[float]]] = field(default_factory=dict)

    def add(self, target: str, metric: str, value: float) -> None:
        self.rounds.setdefault(target, {}).setdefault(metric, []).append(value)

    def medians(self) -> dict[str, dict[str, float]]:
        return {t: {m: statistics.median(v) for m, v in ms.items()} for t, ms in self.rounds.items()}


def measure(target: Target, results: Results, *, seconds: float, idle_ws: int, payload: Path) -> None:
    cpu_before = cpu_seconds(target.pid) if target.pid else 0.0
    small = wrk(target.url + "/1k", seconds=seconds, connections=32)
    if target.pid:
        results.add(target.name, "cpu_s_per_10k", (cpu_seconds(target.pid) - cpu_before) / small["requests"] * 10_000)
    results.add(target.name, "small_get_rps", small["rps"])
    results.add(target.name, "small_get_p50_ms", small["p50_ms"])
    results.add(target.name, "small_get_p99_ms", small["p99_ms"])
    results.add(target.name, "1mib_get_mb_s", wrk(target.url + "/1m", seconds=seconds, connections=8)["mb_s"])
    results.add(target.name, "50mib_post_mb_s", post_50mib(target.url + "/sink", payload))
    if target.pid:
        results.add(target.name, "post_peak_rss_mib", peak_rss_mib(target.pid))
    timings = asyncio.run(ws_round_trips(target.ws_url, 2000 if seconds >= 5 else 500))
    results.add(target.name, "ws_echo_p50_ms", statistics.median(timings))
    results.add(target.name, "ws_echo_p99_ms", statistics.quantiles(timings, n=100)[98])
    results.add(target.name, "ws_echo_msgs_per_s", len(timings) / (sum(timings) / 1000))
    results.add(target.name, "ws_64k_mb_s", asyncio.run(ws_throughput(target.ws_url, 400 if seconds >= 5 else 100)))
    if target.pid:
        results.add(target.name, "idle_ws_kib_each", asyncio.run(ws_idle_rss(target.ws_url, idle_ws, target.pid)))


def ratio(medians: dict[str, dict[str, float]], a: str, b: str, metric: str) -> float | None:
    x, y = medians.get(a, {}).get(metric), medians.get(b, {}).get(metric)
    return round(x / y, 3) if x and y else None


METRICS = [
    "small_get_rps", "small_get_p50_ms", "small_get_p99_ms", "1mib_get_mb_s", "50mib_post_mb_s", "post_peak_rss_mib",
    "ws_echo_p50_ms", "ws_echo_p99_ms", "ws_echo_msgs_per_s", "ws_64k_mb_s", "idle_ws_kib_each", "cpu_s_per_10k",
]  # fmt: skip
TARGETS = ["direct", "gateway", "gateway-pure", "nginx"]


def report(medians: dict[str, dict[str, float]]) -> tuple[dict[str, dict[str, float | None]], str]:
    ratios = {
        m: {
            "gateway/direct": ratio(medians, "gateway", "direct", m),
            "gateway/nginx": ratio(medians, "gateway", "nginx", m),
            "compiled/pure": ratio(medians, "gateway", "gateway-pure", m),
        }
        for m in METRICS
    }
    head = "| metric | " + " | ".join(TARGETS) + " | gateway/direct | gateway/nginx | compiled/pure |"
    rows = [head, "|" + "---|" * (len(TARGETS) + 4)]
    for m in METRICS:
        values = [f"{medians.get(t, {}).get(m, float('nan')):.3g}" if m in medians.get(t, {}) else "–" for t in TARGETS]
        rs = [str(ratios[m][k]) if ratios[m][k] is not None else "–" for k in ("gateway/direct", "gateway/nginx", "compiled/pure")]
        rows.append(f"| {m} | " + " | ".join(values) + " | " + " | ".join(rs) + " |")
    return ratios, "\n".join(rows)


def check(ratios: dict[str, dict[str, float | None]]) -> list[str]:
    problems = []
    for (metric, kind), floor in FLOORS.items():
        value = ratios[metric][kind]
        if value is None or value < floor:
            problems.append(f"{metric} {kind} = {value} is below the floor {floor}")
    return problems


def run(seconds: float, rounds: int, idle_ws: int, out: Path) -> dict[str, object]:
    results = Results()
    with tempfile.TemporaryDirectory(prefix="fluxlit-bench-") as tmp, ExitStack() as stack:
        workdir = Path(tmp)
        workdir.chmod(0o755)  # nginx workers run unprivileged and must read the files
        payload = workdir / "50mib.bin"
        payload.write_bytes(os.urandom(50 * MiB))
        echo_port, up_port, nginx_port = free_port(), free_port(), free_port()
        stack.enter_context(process([sys.executable, str(HERE / "ws_echo.py"), str(echo_port)], cwd=HERE))
        stack.enter_context(process(upstream_nginx(workdir, up_port, echo_port), cwd=workdir))
        nginx = stack.enter_context(process(proxy_nginx(workdir, nginx_port, up_port), cwd=workdir))
        for port in (echo_port, up_port, nginx_port):
            wait_port(port)
        upstream = f"http://127.0.0.1:{up_port}"
        targets: list[Callable[[], Target]] = [
            lambda: Target("direct", upstream, f"ws://127.0.0.1:{up_port}/_stcore/stream", None),
            lambda: Target("nginx", f"http://127.0.0.1:{nginx_port}", f"ws://127.0.0.1:{nginx_port}/_stcore/stream", server_pid(nginx)),
        ]
        for _ in range(rounds):
            for make in targets:
                measure(make(), results, seconds=seconds, idle_ws=idle_ws, payload=payload)
            for name, pure in (("gateway", "0"), ("gateway-pure", "1")):
                port = free_port()
                env = {"FLUXLIT_STREAMLIT_UPSTREAM": upstream, "FLUXLIT_PURE_PYTHON": pure, "FLUXLIT_LOG_LEVEL": "warning"}
                fluxlit = str(Path(sys.executable).parent / "fluxlit")
                with process([fluxlit, "run", "app:app", "--port", str(port), "--loop", "uvloop"], cwd=HERE, env=env) as gateway:
                    wait_port(port)
                    httpx.get(f"http://127.0.0.1:{port}/api/readyz").raise_for_status()
                    measure(Target(name, f"http://127.0.0.1:{port}", f"ws://127.0.0.1:{port}/_stcore/stream", gateway.pid), results,
                            seconds=seconds, idle_ws=idle_ws, payload=payload)  # fmt: skip
    medians = results.medians()
    ratios, table = report(medians)
    summary = {"seconds": seconds, "rounds": rounds, "idle_websockets": idle_ws, "medians": medians, "ratios": ratios, "raw": results.rounds}
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(summary, indent=2))
    (out / "results.md").write_text(table + "\n")
    print(table)
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=10, help="duration of each wrk run")
    parser.add_argument("--rounds", type=int, default=3, help="repeat everything and report medians")
    parser.add_argument("--idle-websockets", type=int, default=1000, help="open WebSockets for the RSS-per-socket figure")
    parser.add_argument("--out", type=Path, default=Path("benchmark-results"), help="where results.json and results.md go")
    parser.add_argument("--check", action="store_true", help="exit 1 on a gross ratio regression")
    args = parser.parse_args()
    for tool in ("nginx", "wrk", "curl"):
        if not shutil.which(tool):
            sys.exit(f"benchmark needs {tool}: run `make system` (apt-get install nginx-light wrk curl)")
    summary = run(args.seconds, args.rounds, args.idle_websockets, args.out)
    if args.check and (problems := check(summary["ratios"])):
        sys.exit("gross benchmark regression:\n  " + "\n  ".join(problems))


if __name__ == "__main__":
    main()
