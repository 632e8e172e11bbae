"""The scaling curve's assembly, the targets' verdicts and the sandbox cost per command: pure logic, with
the table and the plot drawn from made-up results."""

from pathlib import Path
from typing import Any

import pytest

from bench.floor import PhaseResult
from bench.plot import plot
from bench.report import table
from bench.scenarios.isolation import per_command
from bench.scenarios.scaling import curve
from bench.targets import at_least, at_most, verdict

pytestmark = pytest.mark.unit


def _point(workers: int, pool_size: int, rate: float) -> dict[str, Any]:
    return {"workers": workers, "pool_size": pool_size, "jobs": 60, "jobs_per_s": rate}


RATES = {(1, 1): 10.0, (1, 2): 18.0, (1, 3): 19.0, (2, 1): 17.0, (2, 2): 21.0, (2, 3): 20.0}
POINTS = [_point(w, p, rate) for (w, p), rate in reversed(RATES.items())]  # any order in


def test_the_curve_has_one_series_per_worker_count_in_pool_size_order() -> None:
    found = curve(POINTS)
    assert found["series"] == {
        "1": {"pool_size": [1, 2, 3], "jobs_per_s": [10.0, 18.0, 19.0]},
        "2": {"pool_size": [1, 2, 3], "jobs_per_s": [17.0, 21.0, 20.0]},
    }
    assert found["best"] == {"workers": 2, "pool_size": 2, "jobs_per_s": 21.0, "slots": 4}


def test_enough_is_the_fewest_slots_within_ninety_percent_of_the_best() -> None:
    # 90% of 21 is 18.9: 1x3 (3 slots, 19.0) qualifies; 1x2 (18.0) and 2x1 (17.0) do not.
    assert curve(POINTS)["enough"] == {"workers": 1, "pool_size": 3, "jobs_per_s": 19.0, "slots": 3}
    # Fewer slots first, even with more workers: 2 x 1 over 1 x 4.
    assert curve([_point(1, 4, 20.0), _point(2, 1, 19.5)])["enough"]["pool_size"] == 1
    # Between equal slot counts, fewer workers (less memory and fewer consumers) wins.
    tie = [_point(1, 2, 20.0), _point(2, 1, 20.0)]
    assert curve(tie)["enough"]["workers"] == 1
    assert curve([]) == {"series": {}, "best": None, "enough": None}


def test_the_scaling_table_and_panel(tmp_path: Path) -> None:
    result = {
        "jobs": 60,
        "cores": 2,
        "points": POINTS,
        **curve(POINTS),
        "floor": {"sandboxed": {"jobs_per_s": 30.0}},
        "best_fraction_of_sandboxed_floor": 0.7,
        "failed_points": [{"workers": 4, "pool_size": 4, "error": "TimeoutError: 12 results still missing"}],
    }
    lines = table({"scaling": result}).splitlines()
    assert any("4 x 4 FAILED" in line and "12 results still missing" in line for line in lines)
    one = next(line for line in lines if "1 worker(s), pool 1/2/3" in line)
    assert "10.0 / 18.0 / 19.0" in one
    assert any(
        "best: 2 x 2; enough (90% of best): 1 x 3" in line and "0.70 of sandboxed" in line for line in lines
    )
    assert plot({"scaling": result}, "scaling", tmp_path / "scaling.png")
    assert (tmp_path / "scaling.png").stat().st_size > 0


def test_targets_say_ok_or_how_far_they_missed() -> None:
    slow = at_least("kafka jobs/s / floor", 0.62, 0.85)
    assert slow["ok"] is False and slow["distance"] == pytest.approx(-0.23)
    assert verdict(slow) == "MISSED by 0.23"
    late = at_most("p99 delay", 130.0, 100.0, "ms")
    assert verdict(late) == "MISSED by 30 ms"
    assert verdict(at_most("p99 delay", 3274.1, 30.0, "ms")) == "MISSED by 3,244 ms"
    assert verdict(at_most("memory", 39.0, 40.0, "KiB")) == "ok"
    assert verdict(at_most("p99 delay", None, 100.0, "ms")) == "MISSED (not measured)"
    lines = table({"latency": {**LATENCY, "targets": [late]}}).splitlines()
    assert any(line.startswith("targets") and "p99 delay" in line and "<= 100 MISSED by 30 ms" in line
               for line in lines)  # fmt: skip


LATENCY = {
    "latency_ms": {"p50": 30.0, "p95": 40.0, "p99": 60.0},
    "overhead_ms": {"p50": 10.0, "p95": 20.0, "p99": 40.0},
    "floor": {"sequential": {"job_ms": {"p50": 20.0, "p95": 22.0, "p99": 25.0}}},
}


def test_a_sandbox_costs_per_command_over_the_same_runtime_without_one() -> None:
    def phase(name: str, job_ms: list[float]) -> PhaseResult:
        return PhaseResult(name, len(job_ms), 1, "_" in name, 1.0, job_ms, 0, None)

    measured = {
        "runc": phase("runc", [60.0, 61.0, 62.0]),
        "runc_warm": phase("runc_warm", [64.0, 65.0, 66.0]),
        "gvisor": phase("gvisor", [160.0, 170.0, 180.0]),
        "gvisor_bwrap": phase("gvisor_bwrap", [300.0, 310.0, 320.0]),
    }
    # Two commands per job (compile, run): the added median is shared between them.
    assert per_command(measured, commands=2) == {"runc_warm": 2.0, "gvisor_bwrap": 70.0}
