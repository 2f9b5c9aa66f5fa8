"""The benchmarks page's results: the tables and the plots of one recorded end-to-end run.

The data is a ``results.json`` written by ``benchmarks/e2e/run.py``, committed as
``docs/benchmarks/e2e-results.json``. The tables are rendered by the benchmark's own report code,
so they read exactly as ``results.md`` did; the plots are drawn with matplotlib as SVG.
"""

import importlib.util
import io
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # after the backend is chosen

RUN_PY = Path(__file__).resolve().parents[2] / "benchmarks" / "e2e" / "run.py"
DATA = "benchmarks/e2e-results.json"
"""The recorded run, relative to the docs directory."""

PROXIES = ("gateway", "gateway-pure", "gateway-asgi", "nginx")
WITH_DIRECT = ("direct", *PROXIES)


@dataclass(frozen=True)
class Plot:
    """One chart: some metrics of the run, one bar per target and metric."""

    name: str
    title: str
    axis: str
    metrics: tuple[tuple[str, str], ...]
    """``(metric, legend label)`` pairs."""
    targets: tuple[str, ...]
    log: bool = False
    limit: tuple[float, str] | None = None
    """A goal drawn as a dashed line: ``(value, label)``."""


PLOTS = (
    Plot("small-get-per-cpu", "Small GET requests per proxy CPU-second", "requests per CPU-second",
         (("small_get_rps_per_cpu_s", "1 KiB GET, 32 connections"),), PROXIES),
    Plot("small-get-latency", "Small GET latency", "milliseconds (log scale)",
         (("small_get_p50_ms", "p50, 32 connections"), ("small_get_p99_ms", "p99, 32 connections"),
          ("small_get_c64_p99_ms", "p99, 64 connections")), WITH_DIRECT, log=True),
    Plot("throughput", "Large bodies and WebSocket messages", "MB/s",
         (("1mib_get_mb_s", "1 MiB GET"), ("50mib_post_mb_s", "50 MiB POST"), ("ws_64k_mb_s", "64 KiB WebSocket messages")), WITH_DIRECT),
    Plot("idle-websockets", "Memory per idle proxied WebSocket", "KiB per socket",
         (("idle_ws_kib_each", "RSS growth per open socket"),), PROXIES, limit=(8, "goal: 8 KiB")),
)  # fmt: skip


def benchmark_module() -> ModuleType:
    """``benchmarks/e2e/run.py``, whose metric list and report code the page reuses."""
    name = "fluxlit_e2e_benchmark"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, RUN_PY)
        assert spec is not None and spec.loader is not None, f"cannot load {RUN_PY}"
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


def load(docs_dir: str | Path) -> dict[str, Any]:
    """The recorded run."""
    return json.loads((Path(docs_dir) / DATA).read_text(encoding="utf-8"))


def tables(data: dict[str, Any]) -> str:
    """The metrics table, the targets table and any errors, as the benchmark's own report writes them."""
    run = benchmark_module()
    medians, ratios = data["medians"], data["ratios"]
    goals = [run.GoalStatus.of(goal, medians, ratios) for goal in run.GOALS]
    report = run.Report(data["seconds"], data["rounds"], data["idle_websockets"], medians, ratios, goals, data["errors"], data["raw"])
    return report.markdown()


def figures() -> str:
    """The plots as images, each linked to its SVG file next to the data."""
    return "\n\n".join(f"![{plot.title}]({Path(DATA).parent / plot.name}.svg)" for plot in PLOTS) + "\n"


def svg(plot: Plot, data: dict[str, Any]) -> str:
    """One plot as SVG text: horizontal bars grouped by target, each labelled with its value."""
    run = benchmark_module()
    medians = data["medians"]
    targets = [t for t in plot.targets if any(medians.get(t, {}).get(m) is not None for m, _ in plot.metrics)]
    lower_is_better = run.METRICS[plot.metrics[0][0]]
    height = 0.8 / len(plot.metrics)
    with plt.rc_context({"svg.hashsalt": "fluxlit-docs", "svg.fonttype": "none", "font.size": 9}):
        fig, ax = plt.subplots(figsize=(7, 0.5 + 0.32 * len(targets) * len(plot.metrics) + 0.4))
        for index, (metric, label) in enumerate(plot.metrics):
            offset = (index - (len(plot.metrics) - 1) / 2) * height
            measured = [(row + offset, value) for row, t in enumerate(targets) if (value := medians.get(t, {}).get(metric)) is not None]
            bars = ax.barh([p for p, _ in measured], [v for _, v in measured], height=height, label=label)
            ax.bar_label(bars, labels=[run.fmt(v) for _, v in measured], padding=3, fontsize=8)
        if plot.limit is not None:
            ax.axvline(plot.limit[0], color="0.3", linestyle="--", linewidth=1, label=plot.limit[1])
        ax.set_yticks(range(len(targets)), targets)
        ax.invert_yaxis()
        ax.set_xscale("log" if plot.log else "linear")
        ax.margins(x=0.15)
        ax.set_xlabel(plot.axis)
        ax.set_title(f"{plot.title} ({'lower' if lower_is_better else 'higher'} is better)", loc="left")
        ax.spines[["top", "right"]].set_visible(False)
        if len(plot.metrics) > 1 or plot.limit is not None:
            ax.legend(loc="best", fontsize=8, frameon=False)
        fig.tight_layout()
        out = io.StringIO()
        fig.savefig(out, format="svg", metadata={"Date": None})
        plt.close(fig)
    return out.getvalue()


def svgs(docs_dir: str | Path) -> dict[str, str]:
    """``{path relative to the docs directory: SVG text}`` for every plot."""
    data = load(docs_dir)
    return {f"{Path(DATA).parent / plot.name}.svg": svg(plot, data) for plot in PLOTS}
