"""The Grafana dashboard (deploy/grafana/executioner.json) without Grafana: each panel's queries run
against a real Prometheus over a time range (``/api/v1/query_range``) and drawn as one PNG.

    python -m bench.dashboard [--prometheus http://127.0.0.1:9090] [--minutes 15] [--out dashboard.png]

(``make dashboard`` runs it against the Prometheus of ``EXECUTIONER_DEV_PROMETHEUS=1 make up``.) The
queries are the dashboard's own, so the picture shows what Grafana would, and a query that breaks
shows here too.
"""

import argparse
import json
import math
import re
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import matplotlib
import matplotlib.pyplot as plt
from matplotlib.axes import Axes

DASHBOARD = Path(__file__).resolve().parent.parent / "deploy" / "grafana" / "executioner.json"
_LEGEND_LABEL = re.compile(r"\{\{\s*(\w+)\s*\}\}")
_SCALE = {"percentunit": (100.0, "%"), "s": (1.0, "s"), "reqps": (1.0, "per second"), "short": (1.0, "")}


@dataclass(frozen=True)
class Query:
    """One target of a panel: its PromQL and how Grafana names each series it returns."""

    expr: str
    legend: str


@dataclass(frozen=True)
class Panel:
    """One panel of the dashboard."""

    title: str
    unit: str
    queries: list[Query]


@dataclass(frozen=True)
class Series:
    """One line of a panel."""

    name: str
    times: list[float]
    values: list[float]


def load_panels(path: Path = DASHBOARD) -> list[Panel]:
    """The dashboard's panels, in its order."""
    dashboard = json.loads(path.read_text())
    return [
        Panel(
            title=panel["title"],
            unit=panel["fieldConfig"]["defaults"].get("unit", "short"),
            queries=[Query(t["expr"], t.get("legendFormat", "")) for t in panel["targets"]],
        )
        for panel in dashboard["panels"]
    ]


def promql(expr: str, rate_interval: str) -> str:
    """The query Prometheus runs: Grafana's ``$__rate_interval`` replaced by ``rate_interval``."""
    return expr.replace("$__rate_interval", rate_interval)


def series_name(legend: str, labels: dict[str, str]) -> str:
    """Grafana's legend format: ``{{label}}`` replaced by the series' label value."""
    if not legend:
        return "{" + ", ".join(f'{k}="{v}"' for k, v in sorted(labels.items())) + "}"
    return _LEGEND_LABEL.sub(lambda match: labels.get(match.group(1), ""), legend)


def query_range(
    http: httpx.Client, prometheus: str, query: Query, *, start: float, end: float, step_s: float, rate: str
) -> list[Series]:
    """The series of ``query`` between ``start`` and ``end`` (Unix seconds)."""
    reply = http.get(
        f"{prometheus}/api/v1/query_range",
        params={"query": promql(query.expr, rate), "start": start, "end": end, "step": step_s},
    )
    reply.raise_for_status()
    body = reply.json()
    if body.get("status") != "success":
        raise RuntimeError(f"{query.expr}: {body}")
    return [
        Series(
            series_name(query.legend, result["metric"]),
            [float(t) for t, _ in result["values"]],
            [float(v) for _, v in result["values"]],
        )
        for result in body["data"]["result"]
    ]


def panel_series(
    http: httpx.Client, prometheus: str, panel: Panel, *, start: float, end: float, step_s: float, rate: str
) -> list[Series]:
    """Every series of ``panel``'s queries."""
    return [
        series
        for query in panel.queries
        for series in query_range(http, prometheus, query, start=start, end=end, step_s=step_s, rate=rate)
    ]


def _draw(ax: Axes, panel: Panel, series: list[Series], start: float) -> None:
    factor, unit = _SCALE.get(panel.unit, (1.0, panel.unit))
    for line in series:
        minutes = [(t - start) / 60 for t in line.times]
        ax.plot(minutes, [v * factor if math.isfinite(v) else math.nan for v in line.values], label=line.name)
    ax.set_title(panel.title, fontsize=10)
    ax.set_xlabel("minutes", fontsize=8)
    if unit:
        ax.set_ylabel(unit, fontsize=8)
    ax.tick_params(labelsize=8)
    ax.grid(alpha=0.3)
    if series:
        ax.legend(fontsize=7, loc="upper left")
    else:
        ax.text(0.5, 0.5, "no data", ha="center", va="center", transform=ax.transAxes, color="gray")


def render(
    prometheus: str, out: Path, *, start: float, end: float, rate: str = "1m", path: Path = DASHBOARD
) -> dict[str, list[Series]]:
    """Draw every panel of the dashboard over ``start``..``end`` into ``out``; the series by panel."""
    matplotlib.use("Agg")  # files only, never a window
    panels = load_panels(path)
    step_s = max(1.0, (end - start) / 300)
    with httpx.Client(timeout=30) as http:
        drawn = {
            panel.title: panel_series(http, prometheus, panel, start=start, end=end, step_s=step_s, rate=rate)
            for panel in panels
        }
    columns = 2
    rows = math.ceil(len(panels) / columns)
    figure, axes = plt.subplots(rows, columns, figsize=(12, 3 * rows), squeeze=False)
    for ax, panel in zip(axes.flat, panels, strict=False):
        _draw(ax, panel, drawn[panel.title], start)
    for ax in list(axes.flat)[len(panels) :]:
        ax.axis("off")
    figure.suptitle("Executioner (deploy/grafana/executioner.json)", fontsize=12)
    figure.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(out, dpi=90)
    plt.close(figure)
    return drawn


def main(argv: list[str] | None = None) -> int:
    """Render the dashboard of the last ``--minutes`` into ``--out``."""
    parser = argparse.ArgumentParser(prog="python -m bench.dashboard", description=__doc__.split("\n")[0])
    parser.add_argument("--prometheus", default="http://127.0.0.1:9090", help="Prometheus's base URL")
    parser.add_argument("--minutes", type=float, default=15.0, help="how far back (default 15)")
    parser.add_argument("--rate-interval", default="1m", help="what $__rate_interval stands for")
    parser.add_argument("--out", type=Path, default=Path("dashboard.png"), help="the PNG to write")
    args = parser.parse_args(argv)
    end = time.time()
    drawn = render(args.prometheus, args.out, start=end - args.minutes * 60, end=end, rate=args.rate_interval)
    empty = [title for title, series in drawn.items() if not series]
    print(f"wrote {args.out}" + (f"; no data for: {', '.join(empty)}" if empty else ""))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
