"""The run's outputs: the JSON document and the short table printed at the end (the plot is in
:mod:`bench.plot`). Targets are reported next to the floor, never asserted."""

import json
from pathlib import Path
from typing import Any

from bench.targets import amount, every, verdict

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


def _throughput(r: dict[str, Any]) -> list[Row]:
    floor = r["floor"]
    rows: list[Row] = []
    for mode in ("http", "kafka"):
        rows.append(
            (
                "throughput",
                f"{mode} jobs/s",
                _n(r[mode]["jobs_per_s"]),
                _n(floor["bare"]["jobs_per_s"]),
                f"{_n(r['fraction_of_bare_floor'][mode], 2)} of the floor without sandbox, "
                f"{_n(r['fraction_of_sandboxed_floor'][mode], 2)} of sandboxed",
            )
        )
    rows.append(("throughput", "floor with sandbox, jobs/s", "", _n(floor["sandboxed"]["jobs_per_s"]), ""))
    rows.append(("throughput", "floor CPU ms per job, bare", "", _n(floor["bare"].get("cpu_ms_per_job")), ""))
    return rows + cpu_rows(r["http"].get("cpu"), r["kafka"].get("cpu"))


def cpu_rows(http: dict[str, Any] | None, kafka: dict[str, Any] | None) -> list[Row]:
    """The CPU budget of the two phases side by side: ms per job (and share of a core) per process."""
    if http is None or kafka is None:
        return []
    rows: list[Row] = [("cpu", "CPU ms per job, http / kafka phase", "", "", "cores used, http / kafka")]
    for section in ("processes", "totals"):
        for name, h in http[section].items():
            k = kafka[section].get(name, {})
            rows.append(
                (
                    "cpu",
                    f"  {name}" if section == "processes" else f"  total: {name}",
                    f"{_n(h['ms_per_job'])} / {_n(k.get('ms_per_job'))}",
                    "",
                    f"{_n(h['cores'], 2)} / {_n(k.get('cores'), 2)}",
                )
            )
    missing = sorted(set(http["missing"]) | set(kafka["missing"]))
    if missing:
        rows.append(("cpu", "  not found on this machine", ", ".join(missing), "", ""))
    return rows


def _latency(r: dict[str, Any]) -> list[Row]:
    lat, over = r["latency_ms"], r["overhead_ms"]
    bare = r["floor"]["sequential"]["job_ms"]
    return [
        (
            "latency",
            f"POST->result ms {q}",
            _n(lat[q]),
            _n(bare[q]),
            f"overhead {_n(over[q])} ms",
        )
        for q in ("p50", "p95", "p99")
    ]


def _compiled(r: dict[str, Any]) -> list[Row]:
    rows: list[Row] = []
    for language, v in r.items():
        if language == "targets":
            continue
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


def _scaling(r: dict[str, Any]) -> list[Row]:
    rows: list[Row] = []
    for workers, line in r["series"].items():
        rates = " / ".join(_n(rate) for rate in line["jobs_per_s"])
        sizes = "/".join(str(size) for size in line["pool_size"])
        rows.append(("scaling", f"kafka jobs/s, {workers} worker(s), pool {sizes}", rates, "", ""))
    for point in r.get("failed_points", []):
        rows.append(
            ("scaling", f"{point['workers']} x {point['pool_size']} FAILED", "", "", point["error"][:100])
        )
    if r["best"]:
        best, enough = r["best"], r["enough"]
        rows.append(
            (
                "scaling",
                f"best: {best['workers']} x {best['pool_size']}; enough (90% of best): "
                f"{enough['workers']} x {enough['pool_size']}",
                _n(best["jobs_per_s"]),
                _n(r["floor"]["sandboxed"]["jobs_per_s"]),
                f"best {_n(r['best_fraction_of_sandboxed_floor'], 2)} of sandboxed",
            )
        )
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
    delay = r["delay_ms"]
    return [
        ("fanout", f"API KiB per idle SSE ({r['clients']:,} clients)", _n(r["kib_per_connection"]), "", ""),
        (
            "fanout",
            f"result delay ms p50/p99 ({r['received']:,} received, {pace(r['results_per_s'])})",
            f"{_n(delay.get('p50'))}/{_n(delay.get('p99'))}",
            "",
            "",
        ),
        (
            "fanout",
            "result delay ms p99 by tenth of the results",
            " ".join(_n(part.get("p99"), 0) for part in r.get("delay_ms_by_tenth", [])),
            "",
            f"published in {_n(r.get('publish_s'))} s",
        ),
        *_cpu_per_result(r.get("cpu")),
    ]


def _cpu_per_result(cpu: dict[str, Any] | None) -> list[Row]:
    if cpu is None:
        return []
    return [
        (
            "fanout",
            f"  CPU ms per result: {name}",
            _n(row["ms_per_job"], 2),
            "",
            f"{_n(row['cores'], 2)} cores",
        )
        for name, row in {**cpu["processes"], **cpu["totals"]}.items()
        if name.startswith("api") or name in ("kafka", "mariadb", "bench")
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
    "scaling": _scaling,
    "backlog": _backlog,
    "hosts": _hosts,
    "fanout": _fanout,
}


def _targets(scenarios: dict[str, Any]) -> list[Row]:
    rows: list[Row] = []
    for _, target in every(scenarios):
        limit = f"{'<=' if target['at_most'] else '>='} {amount(target['limit'])}"
        rows.append(("targets", target["name"], _n(target["measured"], 2), "", f"{limit} {verdict(target)}"))
    return rows


def table(scenarios: dict[str, Any]) -> str:
    """The short table: one line per headline number, floor next to it; then every target, ok or MISSED
    with the distance."""
    rows: list[Row] = [HEADER]
    for name, result in scenarios.items():
        if "error" in result:
            rows.append((name, "FAILED", "", "", str(result["error"])[:100]))
        else:
            rows.extend(_ROWS[name](result))
    rows.extend(_targets({k: v for k, v in scenarios.items() if "error" not in v}))
    widths = [max(len(row[i]) for row in rows) for i in range(len(HEADER))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)) for row in rows]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(line.rstrip() for line in lines)
