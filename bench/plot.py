"""The run's picture: one panel per scenario that succeeded, the cluster next to its floor (PNG)."""

from collections.abc import Callable
from pathlib import Path
from typing import Any

import matplotlib
import matplotlib.pyplot as plt
from matplotlib.axes import Axes

from bench.report import pace

CLUSTER, FLOOR, TARGET = "tab:blue", "tab:gray", "tab:red"
PERCENTILES = ("p50", "p95", "p99")


def _label(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 else f"{value:.3g}"


def _bars(ax: Axes, labels: list[str], values: list[float], colors: list[str]) -> None:
    bars = ax.bar(labels, values, color=colors)
    ax.bar_label(bars, fmt=_label, fontsize=8)


def _throughput(ax: Axes, r: dict[str, Any]) -> None:
    floor = r["floor"]
    _bars(
        ax,
        ["HTTP", "Kafka", "floor\nsandboxed", "floor\nbare"],
        [r["http"]["jobs_per_s"], r["kafka"]["jobs_per_s"], floor["sandboxed"]["jobs_per_s"],
         floor["bare"]["jobs_per_s"]],
        [CLUSTER, CLUSTER, FLOOR, FLOOR],
    )  # fmt: skip
    for mode, style, target in zip(("HTTP", "Kafka"), ("--", ":"), r["targets"], strict=False):
        share = target["limit"]
        ax.axhline(
            share * floor["bare"]["jobs_per_s"],
            color=TARGET,
            linestyle=style,
            label=f"{mode} target: {share:.0%} of bare",
        )
    ax.set(title=f"Throughput, {r['http']['jobs']:,} short Python jobs", ylabel="jobs/s")
    ax.legend(fontsize=8)


def _grouped(ax: Axes, groups: list[str], series: dict[str, tuple[list[float], str]]) -> None:
    width = 0.8 / len(series)
    for index, (label, (values, color)) in enumerate(series.items()):
        offsets = [g + (index - (len(series) - 1) / 2) * width for g in range(len(groups))]
        ax.bar_label(ax.bar(offsets, values, width, label=label, color=color), fmt=_label, fontsize=8)
    ax.set_xticks(range(len(groups)), groups)
    ax.legend(fontsize=8)


def _latency(ax: Axes, r: dict[str, Any]) -> None:
    bare = r["floor"]["sequential"]["job_ms"]
    _grouped(
        ax,
        list(PERCENTILES),
        {
            "POST -> SSE result": ([r["latency_ms"][q] for q in PERCENTILES], CLUSTER),
            "bare sandboxed run": ([bare[q] for q in PERCENTILES], FLOOR),
        },
    )
    ax.set(title=f"Idle latency, {r['submissions']} sequential jobs", ylabel="ms")


def _compiled(ax: Axes, r: dict[str, Any]) -> None:
    languages = [language for language in r if language != "targets"]
    _grouped(
        ax,
        languages,
        {
            "cluster": ([r[lang]["throughput"]["jobs_per_s"] for lang in languages], CLUSTER),
            "floor (sandboxed)": ([r[lang]["floor"]["parallel"]["jobs_per_s"] for lang in languages], FLOOR),
        },
    )
    ax.set(title="Compiled: compile + 10 tests", ylabel="jobs/s")


ISOLATIONS = {
    "runc": "runc",
    "runc_bwrap": "runc + bubblewrap",
    "runc_warm": "runc + warm sandbox",
    "gvisor": "gVisor",
    "gvisor_bwrap": "gVisor + bubblewrap",
    "gvisor_warm": "gVisor + warm sandbox",
}


def _isolation(ax: Axes, r: dict[str, Any]) -> None:
    languages = [name for name, value in r.items() if isinstance(value, dict) and "floor" in value]
    colors = iter(("tab:gray", "tab:blue", "tab:cyan", "tab:purple", "tab:red", "tab:pink"))
    series = {
        label: ([r[lang]["floor"][name]["job_ms"]["p50"] for lang in languages], next(colors))
        for name, label in ISOLATIONS.items()
        if all(name in r[lang]["floor"] for lang in languages)
    }
    _grouped(ax, languages, series)
    ax.set(title=f"Isolation: one job at a time, {r['jobs']} per bar", ylabel="job ms, p50")


def _scaling(ax: Axes, r: dict[str, Any]) -> None:
    for workers, line in r["series"].items():
        ax.plot(line["pool_size"], line["jobs_per_s"], marker="o", label=f"{workers} worker(s)")
    floor = r["floor"]["sandboxed"]["jobs_per_s"]
    ax.axhline(floor, color=FLOOR, linestyle="--", label=f"floor, sandboxed ({r['cores']} at once)")
    ax.set_xticks(sorted({size for line in r["series"].values() for size in line["pool_size"]}))
    ax.set(
        title=f"Scaling: {r['jobs']} short Python jobs per point (Kafka)",
        xlabel="pool size (jobs per worker at once)",
        ylabel="jobs/s",
    )
    ax.legend(fontsize=8)


def _backlog(ax: Axes, r: dict[str, Any]) -> None:
    samples = r["memory"]["samples"]
    for name in ("api", "master", "workers"):
        points = [(t, v) for t, v in zip(samples["t"], samples[name], strict=True) if v is not None]
        if points:
            ax.plot([t for t, _ in points], [v for _, v in points], label=name)
    ax.set(title=f"Backlog of {r['jobs']:,} jobs draining: memory", xlabel="s", ylabel="MiB")
    ax.legend(fontsize=8)


def _fanout(ax: Axes, r: dict[str, Any]) -> None:
    delay = r["delay_ms"]
    _bars(ax, list(PERCENTILES), [delay.get(q, 0.0) for q in PERCENTILES], [CLUSTER] * 3)
    ax.axhline(r["targets"][-1]["limit"], color=TARGET, linestyle="--", label="p99 target")
    ax.set(
        title=f"Fan-out: {r['clients']:,} SSE clients, {pace(r['results_per_s'])}\n"
        f"API memory {r['kib_per_connection']:.1f} KiB per client",
        ylabel="result delay, ms",
    )
    ax.legend(fontsize=8)


def _hosts(ax: Axes, r: dict[str, Any]) -> None:
    one, two = r["one_host"], r["two_hosts"]
    _bars(ax, ["1 host", "2 hosts"], [one["jobs_per_s"], two["jobs_per_s"]], [CLUSTER, CLUSTER])
    ax.set(
        title=f"Scale-out: {r['workers']} workers, 1 host vs split over 2\n"
        f"ratio {r['ratio_two_to_one']} (both engines on this machine)",
        ylabel="jobs/s (Kafka)",
    )


_PANELS: dict[str, Callable[[Axes, dict[str, Any]], None]] = {
    "throughput": _throughput,
    "latency": _latency,
    "compiled": _compiled,
    "isolation": _isolation,
    "scaling": _scaling,
    "backlog": _backlog,
    "hosts": _hosts,
    "fanout": _fanout,
}


def plot(scenarios: dict[str, Any], title: str, path: Path) -> bool:
    """Draw the successful scenarios into ``path``; False when there was nothing to draw."""
    matplotlib.use("Agg")  # files only, never a window
    drawn = {name: r for name, r in scenarios.items() if "error" not in r}
    if not drawn:
        return False
    columns = min(len(drawn), 3)
    rows = (len(drawn) + columns - 1) // columns
    figure, axes = plt.subplots(rows, columns, figsize=(5.5 * columns, 4.2 * rows), squeeze=False)
    flat = [ax for row in axes for ax in row]
    for ax, (name, result) in zip(flat, drawn.items(), strict=False):
        _PANELS[name](ax, result)
    for ax in flat[len(drawn) :]:
        ax.set_visible(False)
    figure.suptitle(title, fontsize=10)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return True
