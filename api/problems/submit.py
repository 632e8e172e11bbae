"""``POST /api/v1/submissions`` with ``problem``: ``{"problem": "slug", "language", "source"}`` judged
against the problem's current version (its tests by reference, its stub's driver around the source)."""

from typing import Any
from uuid import UUID

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncEngine

from api.lib.errors import ApiError
from api.problems.jobs import problem_job
from api.problems.repository import fetch_problem
from api.submissions.requests import AcceptedJob, SubmissionRules, checked_job, language_of
from schemas.jobs import ProblemRef

PROBLEM_FIELDS = frozenset({"problem", "language", "source", "callback_url"})


def _invalid(field: str, message: str) -> ApiError:
    return ApiError(422, "validation_error", message, field)


async def accept_problem_submission(
    data: dict[str, Any], rules: SubmissionRules, engine: AsyncEngine, submission_id: UUID
) -> AcceptedJob:
    """The job of a submission against a problem, or a 4xx naming the field."""
    for name in data:
        if name not in PROBLEM_FIELDS:
            raise _invalid(
                name, f"unknown field {name!r} (a submission to a problem has {sorted(PROBLEM_FIELDS)})"
            )
    slug = data.get("problem")
    if not isinstance(slug, str) or not slug:
        raise _invalid("problem", "problem must be a problem's slug")
    language = language_of(data, rules)
    source = data.get("source")
    if not isinstance(source, str) or not source:
        raise _invalid("source", "source is required (a non-empty string)")
    problem = await fetch_problem(engine, slug)
    if problem is None:
        raise ApiError(422, "unknown_problem", f"there is no problem {slug!r}", "problem")
    stubs = problem.judging.stubs
    if stubs and language not in stubs:
        raise ApiError(
            422,
            "unknown_language",
            f"problem {slug!r} is solved in {', '.join(sorted(stubs))}, not {language!r}",
            "language",
        )
    try:
        job = problem_job(
            submission_id, ProblemRef(slug=slug, version=problem.version), problem.judging, language, source
        )
    except ValidationError as exc:
        raise _invalid("problem", f"problem {slug!r} cannot be judged: {exc.errors()[0]['msg']}") from None
    return checked_job(job, rules, data.get("callback_url"), user_source=source)
