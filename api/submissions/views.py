"""The public JSON of a submission: ``GET /api/v1/submissions/{id}`` and the SSE ``result`` event's data
(the same JSON without ``submitted``: the client that follows a stream sent it)."""

from typing import Any

from api.lib.clock import iso
from api.submissions.repository import SubmissionRow, SubmittedProgram
from schemas import Limits, Outcome, RunReport

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


def submission_view(row: SubmissionRow) -> dict[str, Any]:
    """The submission as the API shows it (GET, and the SSE ``result`` frame: both from the stored row)."""
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
    return view


def submitted_view(row: SubmissionRow, program: SubmittedProgram) -> dict[str, Any]:
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
