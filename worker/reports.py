"""A run's report from its process result: output as text and, when not UTF-8, as its bytes; figures
averaged over repeated runs; output as text to compare with an expected one."""

from schemas.encoded import text_and_base64
from schemas.results import RunReport
from schemas.verdicts import Verdict
from worker.process import ProcessResult


def comparable(data: bytes) -> str:
    """Output as text to compare, one character per byte that is not UTF-8 (``surrogateescape``): UTF-8
    compares as itself, and other bytes only with the same bytes."""
    return data.decode(errors="surrogateescape")


def run_report(result: ProcessResult, verdict: Verdict) -> RunReport:
    stdout, stdout_b64 = text_and_base64(result.stdout)
    stderr, stderr_b64 = text_and_base64(result.stderr)
    return RunReport(
        verdict=verdict,
        exit_code=result.exit_code,
        signal=result.signal,
        time_ms=result.cpu_ms,
        wall_ms=result.wall_ms,
        memory_kb=result.peak_rss_kb,
        stdout=stdout,
        stderr=stderr,
        stdout_truncated=result.stdout_truncated,
        stderr_truncated=result.stderr_truncated,
        stdout_b64=stdout_b64,
        stderr_b64=stderr_b64,
        interleaving=list(result.interleaving) if result.stdout and result.stderr else None,
    )


def averaged(last: RunReport, runs: list[RunReport]) -> RunReport:
    """The last run's report with time, wall time and memory averaged over ``runs`` (Judge0's
    ``number_of_runs``)."""
    if len(runs) == 1:
        return last
    count = len(runs)
    return last.model_copy(
        update={
            "time_ms": round(sum(r.time_ms for r in runs) / count),
            "wall_ms": round(sum(r.wall_ms for r in runs) / count),
            "memory_kb": round(sum(r.memory_kb for r in runs) / count),
        }
    )
