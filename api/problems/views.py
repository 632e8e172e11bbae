"""The JSON of a problem. Submitters see its text, limits, sample tests (with their data) and stub
templates; the admin view adds every test by hash and size, points and groups, the checker, interactor
and drivers. A hidden test's data is never in any view."""

from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from api.lib.clock import iso
from api.problems.blobs import read_blob
from api.problems.repository import Problem


async def problem_view(engine: AsyncEngine, problem: Problem, *, admin: bool) -> dict[str, Any]:
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
    return view
