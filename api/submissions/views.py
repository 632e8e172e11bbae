"""The public JSON of a submission: ``GET /api/v1/submissions/{id}`` and the SSE ``result`` event's data
(the same JSON without ``submitted``: the client that follows a stream sent it)."""

from typing import Any, cast

from typing_extensions import TypedDict  # pydantic reads it on Python 3.11 (tests validate views)

from api.lib.clock import iso
from api.submissions.repository import SubmissionRow, SubmittedProgram
from schemas import CompareSpec, Limits, Outcome, RunReport, TestCase, TestReport
from schemas.jobs import ProblemRef
from schemas.results import GroupScore


class SubmissionResult(TypedDict):
    """A submission as ``GET /api/v1/submissions/{id}`` shows it (without ``submitted``), and the SSE
    ``result`` event's data. The output figures are the single run's; with tests, the worst test's time
    and memory and no single output (each test's under ``tests``)."""

    id: str
    language: str
    status: str
    """queued, running or finished."""
    verdict: str | None
    origin: str
    worker: str | None
    created_at: str | None
    finished_at: str | None
    stdout: str | None
    stderr: str | None
    exit_code: int | None
    signal: str | None
    time_ms: int | None
    wall_ms: int | None
    memory_kb: int | None
    stdout_truncated: bool | None
    stderr_truncated: bool | None
    stdout_b64: str | None
    stderr_b64: str | None
    compile: RunReport | None
    tests: list[TestReport] | None
    limits: Limits
    """The effective limits (as run, or as they will be)."""
    message: str | None
    problem: ProblemRef | None
    """The stored problem and version it was judged against (docs/problems.md)."""
    score: int | None
    max_score: int | None
    groups: list[GroupScore]
    """With test groups: each group's score."""


class Submitted(TypedDict):
    """What a submission was sent with (``GET``'s ``submitted``)."""

    source: str
    stdin: str
    tests: list[TestCase] | None
    compare: CompareSpec
    stop_on_first_failure: bool
    args: list[str]
    compiler_options: list[str]
    files: list[str]
    """The paths of the program's other files."""
    redirect_stderr_to_stdout: bool
    runs: int


class Submission(SubmissionResult):
    """``GET /api/v1/submissions/{id}``."""

    submitted: Submitted


_RUN_FIELDS = (
    "stdout",
    "stderr",
    "exit_code",
    "signal",
    "time_ms",
    "wall_ms",
    "memory_kb",
    "stdout_truncated",
    "stderr_truncated",
    "stdout_b64",
    "stderr_b64",
)


def _run_fields(run: RunReport | None) -> dict[str, Any]:
    if run is None:
        return dict.fromkeys(_RUN_FIELDS)
    return {name: getattr(run, name) for name in _RUN_FIELDS}


def _tests_summary(outcome: Outcome) -> dict[str, Any]:
    """Top-level figures of a job with tests: the worst test's time and memory, no single output."""
    fields = dict.fromkeys(_RUN_FIELDS)
    if outcome.tests:
        fields["time_ms"] = max(t.time_ms for t in outcome.tests)
        fields["wall_ms"] = max(t.wall_ms for t in outcome.tests)
        fields["memory_kb"] = max(t.memory_kb for t in outcome.tests)
    return fields


def submission_view(row: SubmissionRow) -> SubmissionResult:
    """The submission as the API shows it (GET, and the SSE ``result`` frame: both from the stored row):
    a :class:`SubmissionResult`, its reports and limits in their JSON form."""
    status, finished_at = row.status, row.finished_at
    outcome = Outcome.model_validate(row.outcome) if row.outcome is not None else None
    has_tests = "tests" in row.spec or (outcome is not None and outcome.run is None and bool(outcome.tests))

    view: dict[str, Any] = {
        "id": row.id,
        "language": row.language,
        "status": status.value,
        "verdict": outcome.verdict.value if outcome else None,
        "origin": row.origin,
        "worker": outcome.worker if outcome else row.worker,
        "created_at": iso(row.created_at),
        "finished_at": iso(finished_at),
    }
    if outcome is None:
        view.update(_run_fields(None))
    elif has_tests:
        view.update(_tests_summary(outcome))
    else:
        view.update(_run_fields(outcome.run))
    view["compile"] = outcome.compile.model_dump(mode="json") if outcome and outcome.compile else None
    view["tests"] = [t.model_dump(mode="json") for t in outcome.tests] if outcome and has_tests else None
    limits = outcome.limits if outcome else Limits.model_validate(row.spec.get("limits", {})).effective()
    view["limits"] = limits.model_dump(mode="json", exclude_none=True)
    view["message"] = outcome.message if outcome else None
    view["problem"] = row.spec.get("problem")
    view["score"] = outcome.score if outcome else None
    view["max_score"] = outcome.max_score if outcome else None
    view["groups"] = [g.model_dump(mode="json") for g in outcome.groups or []] if outcome else []
    # The JSON form of SubmissionResult: its models (compile, tests, limits) dumped as JSON.
    return cast(SubmissionResult, view)


def submitted_view(row: SubmissionRow, program: SubmittedProgram) -> Submitted:
    """What the submission was sent with, for ``GET``'s ``submitted`` field (a shared link shows it):
    ``source``, ``stdin``, ``tests`` (input and expected output, or null), ``compare``,
    ``stop_on_first_failure``, ``args``, ``compiler_options``, ``files`` (their paths),
    ``redirect_stderr_to_stdout`` and ``runs``. The effective limits are the view's own ``limits``."""
    return {
        "source": program.source,
        "stdin": program.stdin,
        # A problem's tests are the problem's (its samples: GET /api/v1/problems/{slug}), not the job's.
        "tests": None if "problem" in row.spec else row.spec.get("tests"),
        "compare": row.spec.get("compare", "trim"),
        "stop_on_first_failure": row.spec.get("stop_on_first_failure", False),
        "args": row.spec.get("args", []),
        "compiler_options": row.spec.get("compiler_options", []),
        "files": row.spec.get("files", []),
        "redirect_stderr_to_stdout": row.spec.get("redirect_stderr_to_stdout", False),
        "runs": row.spec.get("runs", 1),
    }
