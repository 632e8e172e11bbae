"""The run's outputs: the JSON document and the short table printed at the end (the plot is in
:mod:`bench.plot`). Targets are reported next to the floor, never asserted."""

import json
from pathlib import Path
from typing import Any

Row = tuple[str, str, str, str, str]
HEADER: Row = ("scenario", "metric", "cluster", "floor", "vs floor / target")


def write_json(document: dict[str, Any], path: Path) -> None:
    """Write the results document (pretty-printed, keys in insertion order)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2) + "\n")


def _n(value: Any, digits: int = 1) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return f"{value:,.{digits}f}" if isinstance(value, float) else f"{value:,}"


def pace(results_per_s: float | None) -> str:
    """How the fan-out's results were published."""
    return f"{results_per_s:g} results/s" if results_per_s else "one burst"


def _mark(ok: Any) -> str:
    return "" if ok is None else (" ok" if ok else " MISSED")


def _throughput(r: dict[str, Any]) -> list[Row]:
    floor = r["floor"]
    rows: list[Row] = []
    for mode in ("http", "kafka"):
        fraction = r["fraction_of_sandboxed_floor"][mode]
        target = f"{_n(fraction, 2)} of sandboxed (>= {r['target']['fraction_of_sandboxed_floor']})"
        rows.append(
            (
                "throughput",
                f"{mode} jobs/s",
                _n(r[mode]["jobs_per_s"]),
                _n(floor["sandboxed"]["jobs_per_s"]),
                target + _mark(r["meets_target"][mode]),
            )
        )
    rows.append(("throughput", "floor without sandbox, jobs/s", "", _n(floor["bare"]["jobs_per_s"]), ""))
    return rows


def _latency(r: dict[str, Any]) -> list[Row]:
    lat, over, target = r["latency_ms"], r["overhead_ms"], r["target"]["overhead_ms"]
    bare = r["floor"]["sequential"]["job_ms"]
    return [
        (
            "latency",
            f"POST->result ms {q}",
            _n(lat[q]),
            _n(bare[q]),
            f"overhead {_n(over[q])} ms"
            + (f" (<= {target[q]})" if q in target else "")
            + _mark(r["meets_target"].get(q)),
        )
        for q in ("p50", "p95", "p99")
    ]


def _compiled(r: dict[str, Any]) -> list[Row]:
    rows: list[Row] = []
    for language, v in r.items():
        floor = v["floor"]
        rows.append(
            (
                "compiled",
                f"{language} jobs/s (compile + {v['tests_per_job']} tests)",
                _n(v["throughput"]["jobs_per_s"], 2),
                _n(floor["parallel"]["jobs_per_s"], 2),
                f"{_n(v['fraction_of_floor'], 2)} of floor",
            )
        )
        rows.append(
            (
                "compiled",
                f"{language} latency ms p50",
                _n(v["latency_ms"]["p50"]),
                _n(floor["sequential"]["job_ms"]["p50"]),
                f"overhead {_n(v['overhead_p50_ms'])} ms",
            )
        )
    return rows


def _isolation(r: dict[str, Any]) -> list[Row]:
    rows: list[Row] = []
    for language, v in r.items():
        if not isinstance(v, dict) or "floor" not in v:
            continue
        floor, added = v["floor"], v["added_p50_ms"]
        every = ("runc", "runc_bwrap", "runc_warm", "gvisor", "gvisor_bwrap", "gvisor_warm")
        names = [name for name in every if name in floor]
        rows.append(
            (
                "isolation",
                f"{language} job ms p50, {' / '.join(names)}",
                "",
                " / ".join(_n(floor[name]["job_ms"]["p50"]) for name in names),
                ", ".join(f"{name} +{_n(ms)} ms" for name, ms in added.items()),
            )
        )
    if "gvisor_missing" in r:
        rows.append(("isolation", "gVisor not measured", "", "", r["gvisor_missing"][:100]))
    return rows


def _backlog(r: dict[str, Any]) -> list[Row]:
    rows: list[Row] = [("backlog", f"drain of {r['jobs']:,} jobs, jobs/s", _n(r["jobs_per_s"]), "", "")]
    for name, view in r["memory"]["mib"].items():
        if "max" in view:
            span = f"{_n(view['min'])}-{_n(view['max'])} MiB"
            rows.append(
                (
                    "backlog",
                    f"{name} memory",
                    span,
                    "",
                    f"growth {_n(view['growth'])} MiB, flat: {_n(view['flat'])}",
                )
            )
    return rows


def _fanout(r: dict[str, Any]) -> list[Row]:
    target, meets = r["target"], r["meets_target"]
    delay = r["delay_ms"]
    return [
        (
            "fanout",
            f"API KiB per idle SSE ({r['clients']:,} clients)",
            _n(r["kib_per_connection"]),
            "",
            f"<= {target['kib_per_connection']}" + _mark(meets["kib_per_connection"]),
        ),
        (
            "fanout",
            f"result delay ms p50/p99 ({r['received']:,} received, {pace(r['results_per_s'])})",
            f"{_n(delay.get('p50'))}/{_n(delay.get('p99'))}",
            "",
            f"p99 <= {target['p99_delay_ms']}" + _mark(meets["p99_delay_ms"]),
        ),
    ]


def _hosts(r: dict[str, Any]) -> list[Row]:
    one, two = r["one_host"], r["two_hosts"]
    return [
        ("hosts", f"kafka jobs/s, {r['workers']} workers on 1 host", _n(one["jobs_per_s"]), "", ""),
        (
            "hosts",
            f"kafka jobs/s, split over 2 hosts {two['workers_per_host']}",
            _n(two["jobs_per_s"]),
            "",
            f"ratio 2/1 hosts {_n(r['ratio_two_to_one'], 2)} (same machine)",
        ),
    ]


_ROWS = {
    "throughput": _throughput,
    "latency": _latency,
    "compiled": _compiled,
    "isolation": _isolation,
    "backlog": _backlog,
    "hosts": _hosts,
    "fanout": _fanout,
}


def table(scenarios: dict[str, Any]) -> str:
    """The short table: one line per headline number, floor and target next to it."""
    rows: list[Row] = [HEADER]
    for name, result in scenarios.items():
        if "error" in result:
            rows.append((name, "FAILED", "", "", str(result["error"])[:100]))
        else:
            rows.extend(_ROWS[name](result))
    widths = [max(len(row[i]) for row in rows) for i in range(len(HEADER))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)) for row in rows]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(line.rstrip() for line in lines)
