"""Soak test: minutes of mixed traffic through a real ``fluxlit run``; the gateway's RSS and fds must stay flat.

Starts ``fluxlit run app:app`` (``app.py`` here: API routes and a Streamlit page that calls them) on
a free loopback port and, at a bounded rate, drives every kind of traffic the gateway carries:
Streamlit GETs (page, health, static assets), API GETs, uploads to a proxied path and to the API
(Content-Length and chunked), Streamlit sessions over ``/_stcore/stream`` whose script run calls the
API back through the gateway, and clients that go away mid-head, mid-upload, mid-download and
mid-WebSocket. Every second it samples the gateway process's RSS and open fds, and the Streamlit
child's RSS. After the warm-up it fits a least-squares line to the gateway's RSS (MiB/min). Under
load the fd count swings with the connections in flight (tens), so fds are compared at rest: the
idle gateway's fds before the load and after it, once idle connections have closed.

The gateway inherits the environment: ``FLUXLIT_GATEWAY_LANE=asgi`` or ``FLUXLIT_PURE_PYTHON=1``
soak those variants, ``FLUXLIT_DEBUG=1`` serves the debug snapshot during the run.

``--check`` exits 1 when the RSS slope exceeds ``--max-slope``, the idle gateway keeps more fds
after the load than before (beyond ``--max-fd-growth``), a workload saw an outcome it does not
expect (any 5xx, another status than its own, a refused connection, a timeout), or the gateway is
not ready when the load stops.
"""

import argparse
import asyncio
import base64
import json
import os
import random
import shutil
import signal
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO

import aiohttp
import httpx
import psutil
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

HERE = Path(__file__).resolve().parent
KiB, MiB = 1024, 1024 * 1024
HOST = "127.0.0.1"
SAMPLE_EVERY_S = 1.0
OP_TIMEOUT_S = 30.0
IN_FLIGHT_PER_KIND = 16
CAUSES_PER_KIND = 5
# Starts per second of each workload at --rate 1, about 70 operations a second: the gateway uses a
# few percent of a core and Streamlit (script runs, pages) about a third, so on two cores the load
# generator starves neither.
RATES: dict[str, float] = {
    "get_page": 2,
    "get_health": 10,
    "get_static": 6,
    "get_api": 30,
    "post_proxied": 3,
    "post_api": 6,
    "ws_session": 1,
    "abort_head": 3,
    "abort_upload": 3,
    "abort_download": 3,
    "abort_ws": 1,
}


# --- the gateway -------------------------------------------------------------------------------


def free_port() -> int:
    """A currently free loopback port."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


class GatewayFailed(RuntimeError):
    """The gateway exited or never got ready."""


class Gateway:
    """``fluxlit run app:app`` on a free loopback port, its output in ``log``; stopped with all it started."""

    def __init__(self, log: IO[bytes]) -> None:
        self.port = free_port()
        self.url = f"http://{HOST}:{self.port}"
        self.log = log
        command = [str(Path(sys.executable).parent / "fluxlit"), "run", "app:app", "--host", HOST, "--port", str(self.port)]
        self.popen = subprocess.Popen(command, cwd=HERE, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        self.process = psutil.Process(self.popen.pid)

    def output(self) -> str:
        """Everything the gateway and Streamlit printed so far."""
        return Path(self.log.name).read_text(errors="replace")

    def wait_ready(self, timeout: float = 90) -> None:
        """Return once ``/api/readyz`` answers 200; fail with the output if the gateway exits or never gets ready."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.popen.poll() is not None:
                raise GatewayFailed(f"fluxlit run exited with {self.popen.returncode}:\n{self.output()[-3000:]}")
            if self.ready():
                return
            time.sleep(0.2)
        raise GatewayFailed(f"{self.url}/api/readyz did not answer 200 within {timeout:g} s:\n{self.output()[-3000:]}")

    def ready(self) -> bool:
        """Whether ``/api/readyz`` answers 200 now."""
        try:
            return httpx.get(self.url + "/api/readyz", timeout=5).status_code == 200
        except httpx.HTTPError:
            return False

    def children(self) -> list[psutil.Process]:
        """The Streamlit child and anything it started."""
        try:
            return self.process.children(recursive=True)
        except psutil.NoSuchProcess:
            return []

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after 20 s; then every child left is killed."""
        kids = self.children()
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(20)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(5)
        for kid in kids:
            with suppress(psutil.NoSuchProcess):
                kid.kill()
        psutil.wait_procs(kids, timeout=5)


@contextmanager
def running_gateway(log: IO[bytes]) -> Iterator[Gateway]:
    """A ready gateway, always stopped on the way out (errors and Ctrl-C included)."""
    gateway = Gateway(log)
    try:
        gateway.wait_ready()
        yield gateway
    finally:
        gateway.stop()


# --- sampling ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sample:
    """One look at the processes, ``t`` seconds after the load started."""

    t: float
    rss_mib: float
    fds: int
    streamlit_rss_mib: float


def cpu_seconds(*processes: psutil.Process) -> float:
    """User + system CPU time of ``processes`` (0 for those gone)."""
    total = 0.0
    for process in processes:
        with suppress(psutil.NoSuchProcess):
            times = process.cpu_times()
            total += times.user + times.system
    return total


def look(gateway: Gateway, t: float) -> Sample:
    """The gateway's RSS and fd count and its children's RSS, now."""
    with gateway.process.oneshot():
        rss, fds = gateway.process.memory_info().rss, gateway.process.num_fds()
    streamlit = 0
    for kid in gateway.children():
        with suppress(psutil.NoSuchProcess):
            streamlit += kid.memory_info().rss
    return Sample(round(t, 3), rss / MiB, fds, streamlit / MiB)


async def sample_until(gateway: Gateway, started: float, deadline: float, samples: list[Sample]) -> None:
    """Append a Sample every SAMPLE_EVERY_S until ``deadline`` (loop time) or until the gateway is gone."""
    loop = asyncio.get_running_loop()
    tick = started
    while tick <= deadline:
        await asyncio.sleep(max(0.0, tick - loop.time()))
        try:
            samples.append(look(gateway, loop.time() - started))
        except psutil.NoSuchProcess:
            return
        tick += SAMPLE_EVERY_S


def open_fds(process: psutil.Process) -> dict[int, str]:
    """What each fd of ``process`` is: a TCP socket with its addresses and state, else what /proc links it to."""
    sockets = {c.fd: f"tcp {c.laddr.ip}:{c.laddr.port} -> {c.raddr.ip if c.raddr else '*'}:{c.raddr.port if c.raddr else '*'} {c.status}"
               for c in process.net_connections("inet")}  # fmt: skip
    described: dict[int, str] = {}
    for fd in os.listdir(f"/proc/{process.pid}/fd"):
        with suppress(FileNotFoundError):
            described[int(fd)] = sockets.get(int(fd)) or os.readlink(f"/proc/{process.pid}/fd/{fd}")
    return described


async def fds_at_rest(gateway: Gateway, *, patience_s: float, floor: int = 0) -> dict[int, str]:
    """The gateway's fds once it is idle: the smallest set seen within ``patience_s``, stopping early at ``floor``
    fds. Idle keep-alive connections close within the header read timeout (10 s); what stays is kept for good."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + patience_s
    fewest = open_fds(gateway.process)
    while len(fewest) > floor and loop.time() < deadline:
        await asyncio.sleep(0.5)
        fewest = min(fewest, open_fds(gateway.process), key=len)
    return fewest


async def fds_after_load(gateway: Gateway, *, floor: int) -> dict[int, str]:
    """The gateway's fds at rest after the load, once its pool has had the chance to drop stale connections.

    The fast lane's pool closes an idle upstream connection when it finds it too old to reuse (4 s),
    and otherwise relies on Streamlit closing idle ones. Streamlit's uvicorn does not when the rest of
    an upload it answered early arrives after its answer (that cancels its keep-alive timer), so one
    proxied request after a quiet spell is what lets the pool close them; the ASGI lane's aiohttp
    connector closes its idle connections after 30 s.
    """
    await asyncio.sleep(5)
    await asyncio.to_thread(httpx.get, gateway.url + "/_stcore/health", timeout=5)
    return await fds_at_rest(gateway, patience_s=45, floor=floor)


# --- workloads ---------------------------------------------------------------------------------


class Unexpected(Exception):
    """An outcome the workload does not expect from the gateway."""


def expect(status: int, wanted: int, what: str) -> None:
    """Raise Unexpected unless ``what`` answered ``wanted``."""
    if status != wanted:
        raise Unexpected(f"{what} answered {status}, expected {wanted}")


def ws_frame(payload: bytes) -> bytes:
    """A masked binary WebSocket frame, as a client sends it."""
    mask = os.urandom(4)
    size = len(payload)
    length = bytes([0x80 | size]) if size < 126 else struct.pack("!BH", 0x80 | 126, size)
    return b"\x82" + length + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


def status_line(head: bytes) -> str:
    """The first line of a response head, for messages."""
    return head.split(b"\r\n", 1)[0].decode(errors="replace")


def rerun_message() -> bytes:
    """The BackMsg a browser sends to run the main page."""
    message = BackMsg()
    message.rerun_script.query_string = ""
    return message.SerializeToString()


def drop(writer: asyncio.StreamWriter, *, reset: bool) -> None:
    """Go away without a goodbye: FIN, or with ``reset`` an RST (zero linger)."""
    if reset:
        writer.get_extra_info("socket").setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        writer.transport.abort()
    else:
        writer.close()


class Traffic:
    """The workloads, one method each: it returns when the gateway behaved as expected and raises otherwise.

    Aborting clients expect their own writes to fail once they hang up (reset, broken pipe); what they
    check is the part before: the connection is accepted and, for downloads and WebSockets, the head.
    """

    def __init__(self, url: str, port: int, session: aiohttp.ClientSession, assets: list[str], rng: random.Random) -> None:
        self.url, self.port, self.session, self.assets, self.rng = url, port, session, assets, rng
        self.host = f"{HOST}:{port}"
        self.payload = os.urandom(512 * KiB)
        self.rerun = rerun_message()

    def workloads(self) -> dict[str, Callable[[], Awaitable[None]]]:
        """Each kind in RATES with the method that runs it once."""
        return {kind: getattr(self, kind) for kind in RATES}

    async def get(self, path: str, wanted: int = 200) -> None:
        """GET ``path`` and read the whole body."""
        async with self.session.get(self.url + path) as response:
            await response.read()
            expect(response.status, wanted, f"GET {path}")

    async def get_page(self) -> None:
        await self.get("/")

    async def get_health(self) -> None:
        await self.get("/_stcore/health")

    async def get_static(self) -> None:
        await self.get(self.rng.choice(self.assets))

    async def get_api(self) -> None:
        await self.get(self.rng.choice(["/api/ping", f"/api/items?n={self.rng.randint(1, 200)}", "/api/healthz"]))

    def body(self) -> bytes | AsyncIterator[bytes]:
        """A few KiB to a few hundred KiB, with a Content-Length or (half the time) chunked."""
        data = self.payload[: self.rng.randint(4 * KiB, 384 * KiB)]
        if self.rng.random() < 0.5:
            return data

        async def chunks() -> AsyncIterator[bytes]:
            for start in range(0, len(data), 32 * KiB):
                yield data[start : start + 32 * KiB]

        return chunks()

    async def post_proxied(self) -> None:
        # Streamlit serves no POST route: it answers 405, often before the body is through.
        async with self.session.post(self.url + "/", data=self.body()) as response:
            await response.read()
            expect(response.status, 405, "POST /")

    async def post_api(self) -> None:
        body = self.body()
        size = len(body) if isinstance(body, bytes) else None
        async with self.session.post(self.url + "/api/upload", data=body) as response:
            expect(response.status, 200, "POST /api/upload")
            received = (await response.json())["received"]
        if size is not None and received != size:
            raise Unexpected(f"POST /api/upload: the API received {received} of {size} bytes")

    async def ws_session(self) -> None:
        """A Streamlit session: run the page (which calls the API through the gateway), stay a moment, close."""
        async with self.session.ws_connect(self.url + "/_stcore/stream", protocols=("streamlit",), max_msg_size=0) as ws:
            if ws.protocol != "streamlit":
                raise Unexpected(f"WebSocket subprotocol {ws.protocol!r}, expected 'streamlit'")
            await ws.send_bytes(self.rerun)
            while True:
                message = await ws.receive()
                if message.type != aiohttp.WSMsgType.BINARY:
                    raise Unexpected(f"Streamlit session ended with {message.type.name} {message.data!r} before the script finished")
                forward = ForwardMsg()
                forward.ParseFromString(message.data)
                if forward.WhichOneof("type") == "script_finished":
                    break
                if forward.delta.new_element.WhichOneof("type") == "exception":
                    raise Unexpected(f"the page raised: {forward.delta.new_element.exception.message}")
            await asyncio.sleep(self.rng.uniform(0, 2))

    async def connect(self, *, receive_buffer: int | None = None) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        """A raw TCP connection to the gateway; a small ``receive_buffer`` makes the gateway feel backpressure."""
        sock = socket.socket()
        sock.setblocking(False)
        if receive_buffer:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
        try:
            await asyncio.get_running_loop().sock_connect(sock, (HOST, self.port))
        except OSError:
            sock.close()
            raise
        return await asyncio.open_connection(sock=sock)

    async def abort_head(self) -> None:
        """Send part of a request head, then hang up."""
        head = f"GET /_stcore/health HTTP/1.1\r\nHost: {self.host}\r\nUser-Agent: soak\r\nAccept: */*\r\n\r\n".encode()
        _, writer = await self.connect()
        with suppress(ConnectionError):
            writer.write(head[: self.rng.randint(1, len(head) - 1)])
            await writer.drain()
            await asyncio.sleep(self.rng.uniform(0, 0.2))
        drop(writer, reset=self.rng.random() < 0.5)

    async def abort_upload(self) -> None:
        """Start an upload to Streamlit or the API, with a length or chunked, and hang up mid-body."""
        path = self.rng.choice(["/", "/api/upload"])
        size = self.rng.randint(64 * KiB, 512 * KiB)
        sent = self.payload[: self.rng.randint(0, size - 1)]
        if self.rng.random() < 0.5:
            framing, body = f"Content-Length: {size}", sent
        else:
            framing, body = "Transfer-Encoding: chunked", f"{size:x}\r\n".encode() + sent
        head = f"POST {path} HTTP/1.1\r\nHost: {self.host}\r\nContent-Type: application/octet-stream\r\n{framing}\r\n\r\n"
        _, writer = await self.connect()
        with suppress(ConnectionError):
            writer.write(head.encode() + body)
            await writer.drain()
            await asyncio.sleep(self.rng.uniform(0, 0.2))
        drop(writer, reset=self.rng.random() < 0.5)

    async def abort_download(self) -> None:
        """Start a large download (a Streamlit asset or a streamed API body), read a little of it, hang up."""
        path = self.rng.choice([self.assets[0], "/api/blob?chunks=32"])
        reader, writer = await self.connect(receive_buffer=16 * KiB)
        writer.write(f"GET {path} HTTP/1.1\r\nHost: {self.host}\r\n\r\n".encode())
        head = await reader.readuntil(b"\r\n\r\n")
        if not head.startswith(b"HTTP/1.1 200 "):
            raise Unexpected(f"GET {path} answered {status_line(head)!r}, expected 200")
        await reader.readexactly(self.rng.randint(1, 64 * KiB))
        drop(writer, reset=self.rng.random() < 0.5)

    async def abort_ws(self) -> None:
        """Open a Streamlit WebSocket by hand, then hang up: at once, mid-frame, or right after asking for a script run."""
        key = base64.b64encode(os.urandom(16)).decode()
        reader, writer = await self.connect()
        writer.write(
            f"GET /_stcore/stream HTTP/1.1\r\nHost: {self.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: streamlit\r\n\r\n".encode()
        )
        head = await reader.readuntil(b"\r\n\r\n")
        if not head.startswith(b"HTTP/1.1 101 "):
            raise Unexpected(f"WebSocket handshake answered {status_line(head)!r}, expected 101")
        with suppress(ConnectionError):
            frame = ws_frame(self.rerun)
            writer.write(self.rng.choice([b"", frame[: len(frame) // 2], frame]))
            await writer.drain()
        drop(writer, reset=self.rng.random() < 0.5)


@dataclass
class Tally:
    """Per workload kind: how many ran, how many went wrong, and the first few causes."""

    runs: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    causes: dict[str, Counter[str]] = field(default_factory=dict)

    def failed(self, kind: str, exc: BaseException) -> None:
        """Count a failure of ``kind``; keep its cause while fewer than CAUSES_PER_KIND are kept."""
        self.errors[kind] += 1
        causes = self.causes.setdefault(kind, Counter())
        cause = f"{type(exc).__name__}: {exc}"[:200]
        causes[cause if cause in causes or len(causes) < CAUSES_PER_KIND else "(other causes)"] += 1


async def attempt(kind: str, op: Callable[[], Awaitable[None]], tally: Tally) -> None:
    """Run ``op`` once, within OP_TIMEOUT_S, and count how it went."""
    tally.runs[kind] += 1
    try:
        async with asyncio.timeout(OP_TIMEOUT_S):
            await op()
    except Exception as exc:  # noqa: BLE001 - every failure is counted against its kind
        tally.failed(kind, exc)


async def drive(kind: str, rate: float, op: Callable[[], Awaitable[None]], deadline: float, tally: Tally, rng: random.Random) -> None:
    """Start ``op`` ``rate`` times a second until ``deadline`` (loop time), at most IN_FLIGHT_PER_KIND at once; wait for the last."""
    loop = asyncio.get_running_loop()
    gate = asyncio.Semaphore(IN_FLIGHT_PER_KIND)
    running: set[asyncio.Task[None]] = set()
    interval = 1 / rate
    start = loop.time() + rng.uniform(0, interval)

    def finished(task: asyncio.Task[None]) -> None:
        running.discard(task)
        gate.release()

    while start < deadline:
        await asyncio.sleep(max(0.0, start - loop.time()))
        await gate.acquire()
        task = asyncio.create_task(attempt(kind, op, tally))
        running.add(task)
        task.add_done_callback(finished)
        start = max(start + interval, loop.time())
    await asyncio.gather(*running)


def static_assets(page: str) -> list[str]:
    """Up to 12 scripts and stylesheets the page links; Streamlit's ``index.*.js`` bundle, the largest, first."""
    paths = sorted({"/" + part.split('"', 1)[0] for part in page.split('"./')[1:] if part.startswith("static/")})
    assets = [p for p in paths if p.endswith((".js", ".css"))]
    if not assets:
        raise RuntimeError("the Streamlit page links no static script or stylesheet")
    return sorted(assets, key=lambda p: not p.startswith("/static/js/index."))[:12]


# --- the run -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Trend:
    """A series over the measured window: medians of its first and last tenth, and its least-squares slope."""

    start: float
    end: float
    slope_per_min: float

    @classmethod
    def of(cls, times: list[float], values: list[float]) -> "Trend":
        edge = max(5, len(values) // 10)
        slope = statistics.linear_regression(times, values).slope if len(set(times)) > 1 else 0.0
        return cls(statistics.median(values[:edge]), statistics.median(values[-edge:]), slope * 60)


@dataclass(frozen=True)
class Report:
    """What a soak run measured and what it found wrong."""

    seconds: float
    warmup_s: float
    rate: float
    runs: dict[str, int]
    errors: dict[str, int]
    causes: dict[str, dict[str, int]]
    rss_mib: Trend
    fds: Trend
    fds_at_rest: tuple[int, int]  # before and after the load
    fds_kept: list[str]  # what the idle gateway holds after the load that it did not before
    streamlit_rss_mib: Trend
    cpu_s: dict[str, float]
    gateway_exit: int | None
    ready_at_end: bool
    samples: list[Sample]

    def problems(self, *, max_slope: float, max_fd_growth: int) -> list[str]:
        """What ``--check`` fails on, one line each."""
        found = [f"{kind}: {self.errors[kind]} of {self.runs[kind]} went wrong: {dict(self.causes[kind])}" for kind in RATES if self.errors[kind]]
        found += [f"{kind} never ran" for kind in RATES if not self.runs[kind]]
        if self.rss_mib.slope_per_min > max_slope:
            found.append(f"gateway RSS grows {self.rss_mib.slope_per_min:+.2f} MiB/min (limit {max_slope:g})")
        before, after = self.fds_at_rest
        if after - before > max_fd_growth:
            found.append(f"the idle gateway holds {after} fds after the load, {before} before (limit +{max_fd_growth}): {self.fds_kept}")
        if self.gateway_exit is not None:
            found.append(f"the gateway exited with {self.gateway_exit} during the run")
        elif not self.ready_at_end:
            found.append("/api/readyz did not answer 200 after the load")
        return found

    def text(self) -> str:
        """The printed report."""
        rows = [f"  {kind:<15}{self.runs[kind]:>8}{self.errors[kind]:>8}" for kind in RATES]
        window = f"{self.warmup_s:g}-{self.seconds:g} s ({sum(s.t >= self.warmup_s for s in self.samples)} samples)"
        cpu = ", ".join(f"{name} {seconds:.1f} s ({seconds / self.seconds:.0%})" for name, seconds in self.cpu_s.items())
        return "\n".join([
            f"soak: {self.seconds:g} s at --rate {self.rate:g}, measured {window}",
            f"  {'workload':<15}{'runs':>8}{'errors':>8}",
            *rows,
            f"gateway RSS    {self.rss_mib.start:.1f} -> {self.rss_mib.end:.1f} MiB, slope {self.rss_mib.slope_per_min:+.3f} MiB/min",
            f"gateway fds    {self.fds.start:g} -> {self.fds.end:g} under load, slope {self.fds.slope_per_min:+.2f}/min; "
            f"at rest {self.fds_at_rest[0]} before, {self.fds_at_rest[1]} after",
            f"Streamlit RSS  {self.streamlit_rss_mib.start:.1f} -> {self.streamlit_rss_mib.end:.1f} MiB, "
            f"slope {self.streamlit_rss_mib.slope_per_min:+.3f} MiB/min (information)",
            f"CPU            {cpu}",
            f"ready at end   {self.ready_at_end}",
        ])  # fmt: skip


async def load(gateway: Gateway, seconds: float, warmup_s: float, rate: float, seed: int) -> Report:
    """Drive every workload for ``seconds`` while sampling; the Report of the window after ``warmup_s``."""
    rng = random.Random(seed)
    loop = asyncio.get_running_loop()
    tally = Tally()
    samples: list[Sample] = []
    ours = psutil.Process()
    rest_before = await fds_at_rest(gateway, patience_s=2)
    cpu_before = {"gateway": cpu_seconds(gateway.process), "Streamlit": cpu_seconds(*gateway.children()), "load": cpu_seconds(ours)}
    connector = aiohttp.TCPConnector(limit=64)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=OP_TIMEOUT_S)) as session:
        async with session.get(gateway.url + "/") as response:
            assets = static_assets(await response.text())
        traffic = Traffic(gateway.url, gateway.port, session, assets, rng)
        started = loop.time()
        deadline = started + seconds
        await asyncio.gather(
            sample_until(gateway, started, deadline, samples),
            *(drive(kind, RATES[kind] * rate, op, deadline, tally, rng) for kind, op in traffic.workloads().items()),
        )
    cpu_after = {"gateway": cpu_seconds(gateway.process), "Streamlit": cpu_seconds(*gateway.children()), "load": cpu_seconds(ours)}
    gateway_exit = gateway.popen.poll()
    ready_at_end = await asyncio.to_thread(gateway.ready)
    rest_after = rest_before if gateway_exit is not None else await fds_after_load(gateway, floor=len(rest_before))
    measured = [s for s in samples if s.t >= warmup_s] or samples
    times = [s.t for s in measured]
    return Report(
        seconds=seconds,
        warmup_s=warmup_s,
        rate=rate,
        runs={kind: tally.runs[kind] for kind in RATES},
        errors={kind: tally.errors[kind] for kind in RATES},
        causes={kind: dict(causes) for kind, causes in tally.causes.items()},
        rss_mib=Trend.of(times, [s.rss_mib for s in measured]),
        fds=Trend.of(times, [s.fds for s in measured]),
        fds_at_rest=(len(rest_before), len(rest_after)),
        fds_kept=[f"fd {fd}: {what}" for fd, what in sorted(rest_after.items()) if rest_before.get(fd) != what],
        streamlit_rss_mib=Trend.of(times, [s.streamlit_rss_mib for s in measured]),
        cpu_s={name: cpu_after[name] - cpu_before[name] for name in cpu_before},
        gateway_exit=gateway_exit,
        ready_at_end=ready_at_end,
        samples=samples,
    )


def interrupted(signum: int, frame: object) -> None:
    """SIGTERM ends the run like Ctrl-C, so the gateway is still stopped."""
    raise KeyboardInterrupt


def main() -> None:
    """Run the soak, print the report; with ``--check``, exit 1 on any problem."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=600, help="how long the load runs")
    parser.add_argument("--warmup", type=float, help="seconds left out of the figures (default: 20%% of the run, at least 10)")
    parser.add_argument("--rate", type=float, default=1.0, help="multiplies every workload's rate (about 70 operations/s at 1)")
    parser.add_argument("--max-slope", type=float, default=1.0, help="--check fails above this gateway RSS slope, MiB/min")
    parser.add_argument("--max-fd-growth", type=int, default=0, help="--check fails when the idle gateway keeps more fds than this after the load")
    parser.add_argument("--seed", type=int, default=0, help="seed of the workload mix")
    parser.add_argument("--out", type=Path, help="write soak.json (figures and samples) and gateway.log here")
    parser.add_argument("--check", action="store_true", help="exit 1 on RSS or fd growth, workload errors, or a gateway not ready at the end")
    args = parser.parse_args()
    warmup = args.warmup if args.warmup is not None else max(10.0, 0.2 * args.seconds)
    if warmup >= args.seconds:
        parser.error(f"--warmup {warmup:g} leaves nothing of --seconds {args.seconds:g} to measure")
    signal.signal(signal.SIGTERM, interrupted)
    with tempfile.NamedTemporaryFile(prefix="fluxlit-soak-", suffix=".log") as log:
        try:
            with running_gateway(log) as gateway:
                report = asyncio.run(load(gateway, args.seconds, warmup, args.rate, args.seed))
        except GatewayFailed as exc:
            sys.exit(f"soak: {exc}")
        except KeyboardInterrupt:
            print("soak: interrupted; the gateway and Streamlit were stopped", file=sys.stderr)
            sys.exit(130)
        if args.out:
            args.out.mkdir(parents=True, exist_ok=True)
            (args.out / "soak.json").write_text(json.dumps(asdict(report), indent=1))
            shutil.copyfile(log.name, args.out / "gateway.log")
    print(report.text())
    problems = report.problems(max_slope=args.max_slope, max_fd_growth=args.max_fd_growth)
    if problems:
        print("problems:\n  " + "\n  ".join(problems), file=sys.stderr)
    if args.check and problems:
        sys.exit(1)


if __name__ == "__main__":
    main()
