"""A finished submission as Piston's execute response: ``run`` (and ``compile`` for compiled
languages) with Piston's status codes and units (ms, bytes)."""

from typing import NotRequired, TypedDict

from api.compat.piston.catalog import PistonRuntime
from api.submissions.repository import SubmissionRow
from schemas import Outcome, RunReport, Verdict


class PistonStage(TypedDict):
    """One stage (``run`` or ``compile``) of an execute response; times in ms, memory in bytes."""

    stdout: str
    stderr: str
    output: str
    code: int | None
    signal: str | None
    message: str | None
    status: str | None
    """null, RE (non-zero exit), SG (signal), TO (timeout), OL/EL (stdout/stderr too long), XX (ours)."""
    cpu_time: int
    wall_time: int
    memory: int


class PistonExecuteResult(TypedDict):
    """``POST /api/v2/execute``'s answer: ``compile`` for compiled languages, no ``run`` when it failed."""

    language: str
    version: str
    compile: NotRequired[PistonStage]
    run: NotRequired[PistonStage]


_MESSAGES = {
    "TO": "Time limit exceeded",
    "OL": "stdout length exceeded",
    "EL": "stderr length exceeded",
}


def _status(report: RunReport) -> str | None:
    """Piston's status: null (fine), RE (non-zero exit), SG (signal), TO (timeout), OL/EL (stdout or
    stderr too long), XX (internal error)."""
    match report.verdict:
        case Verdict.ACCEPTED | Verdict.WRONG_ANSWER | Verdict.PRESENTATION_ERROR:
            return None
        case Verdict.TIME_LIMIT_EXCEEDED:
            return "TO"
        case Verdict.OUTPUT_LIMIT_EXCEEDED:
            return "OL" if report.stdout_truncated or not report.stderr_truncated else "EL"
        case Verdict.INTERNAL_ERROR:
            return "XX"
        case _:
            return "SG" if report.signal is not None else "RE"


def _message(report: RunReport, status: str | None) -> str | None:
    if report.verdict is Verdict.MEMORY_LIMIT_EXCEEDED:
        return "Memory limit exceeded"
    if status == "RE":
        return f"Exited with error status {report.exit_code}"
    if status == "SG":
        return f"Killed by {report.signal}"
    return _MESSAGES.get(status or "")


def stage_view(report: RunReport) -> PistonStage:
    """One stage (``run`` or ``compile``) as Piston reports it; ``output`` is stdout and stderr in the
    order the worker read them, as Piston's."""
    status = _status(report)
    return {
        "stdout": report.stdout,
        "stderr": report.stderr,
        "output": report.combined_output().decode(errors="replace"),
        "code": report.exit_code,
        "signal": report.signal,
        "message": _message(report, status),
        "status": status,
        "cpu_time": report.time_ms,
        "wall_time": report.wall_ms,
        "memory": report.memory_kb * 1024,
    }


def _internal(outcome: Outcome) -> PistonStage:
    report = RunReport(verdict=Verdict.INTERNAL_ERROR)
    return {**stage_view(report), "message": outcome.message or "internal error"}


def execute_view(row: SubmissionRow, entry: PistonRuntime) -> PistonExecuteResult:
    """The execute response of a finished submission. When compilation fails there is no ``run``, as in
    Piston."""
    assert row.outcome is not None
    outcome = Outcome.model_validate(row.outcome)
    view: PistonExecuteResult = {"language": entry.language, "version": entry.version}
    if entry.runtime.compiled:
        view["compile"] = stage_view(outcome.compile) if outcome.compile else _internal(outcome)
        if outcome.verdict is Verdict.COMPILATION_ERROR:
            return view
    view["run"] = stage_view(outcome.run) if outcome.run else _internal(outcome)
    return view
