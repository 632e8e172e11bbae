"""The JSON of a problem. Submitters see its text, limits, sample tests (with their data) and stub
templates; the admin view adds every test by hash and size, points and groups, the checker, interactor
and drivers. A hidden test's data is never in any view."""

from typing import Any, NotRequired, cast

from sqlalchemy.ext.asyncio import AsyncEngine
from typing_extensions import TypedDict  # pydantic reads it on Python 3.11

from api.lib.clock import iso
from api.problems.blobs import read_blob
from api.problems.model import Judging
from api.problems.rejudges import Progress
from api.problems.repository import Problem
from schemas.jobs import Limits


class SampleTest(TypedDict):
    """A sample test, shown with its data."""

    index: int
    input: str
    expected_output: str


class StubTemplate(TypedDict):
    """What the editor starts from in one language (the driver is the admin's)."""

    template: str


class ProblemView(TypedDict):
    """A problem as ``GET /api/v1/problems/{slug}`` shows it; ``judging`` only in the admin's view."""

    slug: str
    title: str
    statement: str
    version: int
    current_version: int
    limits: Limits
    tests: int
    """How many tests (samples and hidden)."""
    max_score: int
    samples: list[SampleTest]
    stubs: dict[str, StubTemplate]
    created_at: str | None
    updated_at: str | None
    judging: NotRequired[Judging]


class ProblemSummary(TypedDict):
    """One problem of the list."""

    slug: str
    title: str
    version: int


class ProblemList(TypedDict):
    """``GET /api/v1/problems``."""

    problems: list[ProblemSummary]


class RejudgeProgress(TypedDict):
    """A rejudge: how many of its submissions finished."""

    id: str
    problem: str
    version: int
    total: int
    finished: int
    done: bool


def progress_view(progress: Progress) -> RejudgeProgress:
    """``progress`` as the rejudge routes show it."""
    return {
        "id": progress.id,
        "problem": progress.slug,
        "version": progress.version,
        "total": progress.total,
        "finished": progress.finished,
        "done": progress.finished >= progress.total,
    }


async def problem_view(engine: AsyncEngine, problem: Problem, *, admin: bool) -> ProblemView:
    """``problem`` as ``GET /api/v1/problems/{slug}`` shows it (``admin``: with the judging part)."""
    judging = problem.judging
    samples = []
    async with engine.connect() as conn:
        for index, test in enumerate(judging.tests):
            if test.sample:
                stdin = await read_blob(conn, test.input_sha256) or b""
                expected = await read_blob(conn, test.output_sha256) or b""
                samples.append(
                    {
                        "index": index,
                        "input": stdin.decode(errors="replace"),
                        "expected_output": expected.decode(errors="replace"),
                    }
                )
    view: dict[str, Any] = {
        "slug": problem.slug,
        "title": problem.text.title,
        "statement": problem.text.statement,
        "version": problem.version,
        "current_version": problem.current_version,
        "limits": judging.limits.model_dump(mode="json", exclude_none=True),
        "tests": len(judging.tests),
        "max_score": sum(test.points or 0 for test in judging.tests),
        "samples": samples,
        "stubs": {language: {"template": stub.template} for language, stub in judging.stubs.items()},
        "created_at": iso(problem.created_at),
        "updated_at": iso(problem.updated_at),
    }
    if admin:
        view["judging"] = judging.model_dump(mode="json", exclude_none=True)
    # The JSON form of ProblemView: its models (limits, judging) dumped as JSON.
    return cast(ProblemView, view)
