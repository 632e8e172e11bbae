"""`python -m bench` end to end on the test services: a quick latency run with tiny counts must bring up
its own cluster, measure, and write a results document and a plot (timings are not judged here)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fixtures.services import Services

REPO = Path(__file__).resolve().parents[2]
JOBS = 20


@pytest.mark.e2e
@pytest.mark.slow
@pytest.mark.timeout(900)
def test_quick_latency_run_writes_sane_results(services: Services, tmp_path: Path) -> None:
    # The session exported the services' addresses (EXECUTIONER_*); --services env makes the bench use them.
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--only", "latency", "--latency-jobs", str(JOBS),
         "--services", "env", "--results-dir", str(tmp_path)],
        cwd=REPO,
        env=os.environ,
        capture_output=True,
        text=True,
        timeout=840,
        check=False,
    )  # fmt: skip
    assert done.returncode == 0, f"stdout:\n{done.stdout}\nstderr:\n{done.stderr[-4000:]}"

    (result_file,) = tmp_path.glob("*.json")
    assert result_file.with_suffix(".png").stat().st_size > 0
    document = json.loads(result_file.read_text())
    assert {
        "started_at",
        "finished_at",
        "host",
        "cluster",
        "counts",
        "services",
        "scenarios",
    } <= document.keys()
    assert document["services"] == "env"
    assert list(document["scenarios"]) == ["latency"]

    latency = document["scenarios"]["latency"]
    assert latency["submissions"] == JOBS
    assert latency["verdicts"] == {"accepted": JOBS}
    measured = latency["latency_ms"]
    assert measured["count"] == JOBS
    assert 0 < measured["p50"] <= measured["p95"] <= measured["p99"] <= measured["max"]
    bare = latency["floor"]["sequential"]
    assert bare["sandbox"] is True and bare["parallel"] == 1
    assert bare["job_ms"]["count"] == JOBS and bare["job_ms"]["p50"] > 0
    assert latency["floor"]["sequential_bare"]["sandbox"] is False
    # Overhead is latency minus the bare median: consistent with the two, whatever the machine's load.
    assert latency["overhead_ms"]["p50"] == pytest.approx(measured["p50"] - bare["job_ms"]["p50"], abs=0.2)
    assert [target["name"].split()[2] for target in latency["targets"]] == ["p50", "p99"]

    assert "POST->result ms p50" in done.stdout  # the table
    assert "latency: POST → result" in done.stderr  # a progress line with counts
