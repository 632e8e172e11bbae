"""The values of a new ``submissions`` row: the one place that says what a queued submission holds,
whether the HTTP API, the job intake or the results recorder creates it."""

from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

import orjson

from schemas import JobMessage, Status

_SPEC_FIELDS = {
    "tests", "limits", "compare", "stop_on_first_failure", "compile_limits", "source_b64", "stdin_b64",
    "problem",
}  # fmt: skip
_SPEC_OPTIONS = ("args", "compiler_options", "redirect_stderr_to_stdout", "runs", "run_scripts")
"""Run options kept in ``spec`` only when the job sets them (not ``files``: they can be large)."""


class Origin(StrEnum):
    """Where a submission came from (the ``origin`` column)."""

    HTTP = "http"
    """``POST /api/v1/submissions``."""
    KAFKA = "kafka"
    """A job produced straight to ``jobs.<language>`` (a batch grader)."""


def job_spec(job: JobMessage) -> str:
    """The ``spec`` column: the job's options, as the job message has them (JSON)."""
    spec = job.model_dump(mode="json", include=_SPEC_FIELDS, exclude_none=True)
    defaults = JobMessage.model_fields
    for name in _SPEC_OPTIONS:
        value = getattr(job, name)
        if value != defaults[name].get_default(call_default_factory=True):
            spec[name] = value
    if job.files:
        spec["files"] = [file.path for file in job.files]
    return orjson.dumps(spec).decode()


def new_submission_row(
    job: JobMessage, *, origin: Origin, created_at: datetime, user_source: str | None = None
) -> dict[str, Any]:
    """The row of a new, queued submission of ``job``; ``created_at`` is naive UTC. ``user_source``: the
    code the submitter wrote when the job's source was composed from it and a problem's driver (the row
    keeps what the user wrote; a rejudge composes it again)."""
    row = _queued_row(
        str(job.id),
        language=job.language,
        source=job.source if user_source is None else user_source,
        stdin=job.stdin,
        spec=job_spec(job),
        origin=origin,
        created_at=created_at,
        owner_key=job.key_id,
    )
    problem = job.problem
    # Always both keys: the intake inserts many rows in one statement, which needs the same columns.
    return row | {
        "problem_slug": problem.slug if problem else None,
        "problem_version": problem.version if problem else None,
    }


def placeholder_submission_row(submission_id: UUID, *, created_at: datetime) -> dict[str, Any]:
    """The row of a submission whose result arrived before its job: a job produced straight to Kafka that
    the intake has not recorded yet. Language, source, stdin and spec are empty until the intake fills
    them in (an empty ``language`` marks such a row)."""
    return _queued_row(
        str(submission_id),
        language="",
        source="",
        stdin="",
        spec="{}",
        origin=Origin.KAFKA,
        created_at=created_at,
    )


def _queued_row(
    submission_id: str,
    *,
    language: str,
    source: str,
    stdin: str,
    spec: str,
    origin: Origin,
    created_at: datetime,
    owner_key: str | None = None,
) -> dict[str, Any]:
    return {
        "owner_key": owner_key,
        "id": submission_id,
        "language": language,
        "source": source,
        "stdin": stdin,
        "spec": spec,
        "status": Status.QUEUED.value,
        "last_seq": 0,
        "origin": origin.value,
        "created_at": created_at,
    }
