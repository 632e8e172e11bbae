"""The pure parts of grading: percentiles, the summary, the results file, the bookkeeping of a run and
what the command prints."""

import asyncio
import io
import json
from datetime import UTC, datetime

import pytest

from cli.grading import summary_table
from grader import (
    GradeSummary,
    JobResult,
    JobState,
    ProgressBar,
    dump_results,
    parse_jobs,
    percentile,
    summarize,
)
from grader.progress import render
from grader.tracker import Progress, Tracker, error

pytestmark = pytest.mark.unit


def test_percentiles_by_nearest_rank() -> None:
    hundred = [float(v) for v in range(100, 0, -1)]  # unsorted on purpose
    assert percentile(hundred, 50) == 50
    assert percentile(hundred, 99) == 99
    assert percentile(hundred, 100) == 100
    assert percentile([7.0], 50) == percentile([7.0], 99) == 7
    assert percentile([1.0, 2.0, 3.0, 4.0], 50) == 2  # the smallest value with half at or below it
    assert percentile([1.0, 2.0, 3.0, 4.0], 99) == 4
    assert percentile([], 50) is None
    with pytest.raises(ValueError, match="not in"):
        percentile([1.0], 0)


def finished(line: int, verdict: str, latency_ms: float) -> JobResult:
    return JobResult(
        line=line, id=f"id-{line}", state=JobState.FINISHED, verdict=verdict, latency_ms=latency_ms
    )


def test_summary_counts_verdicts_and_missing_results_and_times_only_finished_jobs() -> None:
    results = [
        *(finished(i, "accepted", float(i)) for i in range(1, 7)),
        finished(7, "wrong_answer", 700.0),
        finished(8, "wrong_answer", 800.0),
        finished(9, "runtime_error", 900.0),
        JobResult(line=10, id=None, state=JobState.REJECTED, error=error("unknown_language", "no")),
        JobResult(line=11, id="x", state=JobState.TIMEOUT, error=error("timeout", "late")),
    ]
    summary = summarize(results, elapsed_s=3.0)
    assert summary.total == 11
    assert summary.verdicts == {"accepted": 6, "wrong_answer": 2, "runtime_error": 1}
    assert list(summary.verdicts) == ["accepted", "wrong_answer", "runtime_error"]  # most first
    assert summary.missing == {"rejected": 1, "timeout": 1}
    assert summary.finished == 9
    assert not summary.complete
    assert summary.jobs_per_s == 3.0
    assert (summary.p50_ms, summary.p99_ms) == (5.0, 900.0)
    assert summary.to_json()["jobs_per_s"] == 3.0


def test_an_empty_run_has_no_rate_and_no_percentiles() -> None:
    summary = summarize([], elapsed_s=0.0)
    assert (summary.jobs_per_s, summary.p50_ms, summary.p99_ms, summary.complete) == (0.0, None, None, True)


def test_results_are_written_one_json_line_each() -> None:
    at = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
    result = JobResult(
        line=3,
        id="abc",
        state=JobState.FINISHED,
        verdict="accepted",
        result={"verdict": "accepted"},
        submitted_at=at,
        finished_at=at,
        latency_ms=12.345,
    )
    out = io.BytesIO()
    dump_results([result, JobResult(line=4, id=None, state=JobState.FAILED, error=error("x", "y"))], out)
    first, second = (json.loads(line) for line in out.getvalue().splitlines())
    assert first == {
        "line": 3,
        "id": "abc",
        "state": "finished",
        "verdict": "accepted",
        "latency_ms": 12.3,
        "submitted_at": "2025-01-02T03:04:05+00:00",
        "finished_at": "2025-01-02T03:04:05+00:00",
        "result": {"verdict": "accepted"},
        "error": None,
    }
    assert (second["state"], second["error"], second["verdict"]) == (
        "failed",
        {"code": "x", "message": "y", "field": None},
        None,
    )


async def test_the_first_outcome_of_a_job_wins_and_the_rest_time_out() -> None:
    jobs = parse_jobs([json.dumps({"language": "python", "source": "x"}).encode()] * 3)
    reports: list[Progress] = []
    tracker = Tracker(jobs, on_progress=reports.append)
    for index in range(3):
        tracker.sent(index, jobs[index].id)
    assert tracker.finished(0, "accepted", {"verdict": "accepted"})
    assert not tracker.finished(0, "wrong_answer", {})  # a duplicate changes nothing
    assert not tracker.rejected(0, error("dead_letter", "late"))
    assert tracker.rejected(1, error("dead_letter", "too big"))
    assert not tracker.all_settled.is_set()
    results, elapsed = tracker.close(timeout_s=5)
    assert [r.state for r in results] == [JobState.FINISHED, JobState.REJECTED, JobState.TIMEOUT]
    assert results[0].verdict == "accepted"
    assert results[0].latency_ms is not None and results[1].latency_ms is None
    assert results[2].error == error("timeout", "no result within the timeout of 5 s")
    assert results[2].id == jobs[2].id
    assert elapsed >= 0
    assert [(p.sent, p.finished, p.missing) for p in reports] == [
        (1, 0, 0),
        (2, 0, 0),
        (3, 0, 0),
        (3, 1, 0),
        (3, 1, 1),
    ]


async def test_the_window_bounds_jobs_in_flight() -> None:
    jobs = parse_jobs([json.dumps({"language": "python", "source": "x"}).encode()] * 2)
    tracker = Tracker(jobs, window=1)
    await tracker.slot()
    tracker.sent(0)
    second = asyncio.create_task(tracker.slot())
    for _ in range(5):
        await asyncio.sleep(0)  # let the task run as far as it can
    assert not second.done()  # the one slot is taken
    tracker.failed(0, error("not_delivered", "no"))
    await second  # settling the first job freed its slot
    tracker.sent(1)
    tracker.finished(1, "accepted", {})
    assert tracker.all_settled.is_set()


def test_progress_line_and_bar() -> None:
    progress = Progress(total=10, sent=8, finished=4, missing=1, elapsed_s=2.0)
    assert render(progress, width=10) == (
        "[#####.....]  5/10 done  3 in flight  1 without result  2.0 jobs/s  2 s"
    )
    stream = io.StringIO()
    bar = ProgressBar(stream, interval_s=3600)
    bar(progress)
    bar(Progress(total=10, sent=9, finished=5, missing=1, elapsed_s=2.5))  # too soon: not drawn
    bar(Progress(total=10, sent=10, finished=9, missing=1, elapsed_s=3.0))  # the end is always drawn
    bar.close()
    drawn = stream.getvalue().split("\r")[1:]
    assert len(drawn) == 2
    assert drawn[1].startswith("[" + "#" * 30 + "]  10/10 done  0 in flight")
    assert drawn[1].endswith("\n")


def test_summary_table() -> None:
    summary = GradeSummary(
        total=5,
        verdicts={"accepted": 3, "wrong_answer": 1},
        missing={"rejected": 1},
        elapsed_s=2.0,
        p50_ms=120.4,
        p99_ms=980.0,
    )
    assert summary_table(summary).splitlines() == [
        "VERDICT              JOBS",
        "accepted             3",
        "wrong_answer         1",
        "no result: rejected  1",
        "4/5 jobs with a result in 2.0 s: 2.0 jobs/s; completion time p50 120 ms, p99 980 ms",
    ]
