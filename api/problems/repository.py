"""Reading and writing problems and their versions."""

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from api.lib.clock import utcnow
from api.lib.errors import ApiError, not_found
from api.problems.archive import PROGRAMS, TestArchive, TestMeta
from api.problems.blobs import put_blob
from api.problems.model import MAX_PROBLEM_BYTES, Judging, ProblemBody, ProblemText, StoredTest, TestBody
from common.tables import problem_versions, problems


@dataclass(frozen=True, slots=True)
class Problem:
    """A stored problem at one version."""

    slug: str
    text: ProblemText
    version: int
    """The version this is (the current one, unless asked for another)."""
    current_version: int
    judging: Judging
    created_at: datetime
    updated_at: datetime


async def store_test(
    conn: AsyncConnection, stdin: bytes, answer: bytes, meta: TestBody | TestMeta
) -> StoredTest:
    """Put one test's files into the test store; the test by reference, with ``meta``'s sample flag,
    points and group."""
    input_sha, input_size = await put_blob(conn, stdin)
    output_sha, output_size = await put_blob(conn, answer)
    return StoredTest(
        input_sha256=input_sha,
        input_size=input_size,
        output_sha256=output_sha,
        output_size=output_size,
        sample=meta.sample,
        points=meta.points,
        group=meta.group,
    )


async def store_tests(conn: AsyncConnection, tests: Sequence[TestBody]) -> list[StoredTest]:
    """Put the tests' files into the test store; the tests by reference."""
    return [await store_test(conn, t.input.encode(), t.expected_output.encode(), t) for t in tests]


def judging_of(body: ProblemBody, tests: list[StoredTest]) -> Judging:
    """The judging part of ``body`` with its tests stored; 413 when they are over 1 GiB together."""
    judging = Judging(
        limits=body.limits,
        compare=body.compare,
        checker=body.checker,
        interactor=body.interactor,
        stubs=body.stubs,
        tests=tests,
    )
    if judging.total_bytes > MAX_PROBLEM_BYTES:
        raise ApiError(
            413, "too_large", f"the tests hold {judging.total_bytes} bytes; the limit is {MAX_PROBLEM_BYTES}"
        )
    return judging


async def create_problem(engine: AsyncEngine, slug: str, body: ProblemBody) -> Problem:
    """Store a new problem at version 1; 409 when ``slug`` is taken (deleted problems included)."""
    now = utcnow()
    async with engine.begin() as conn:
        taken = await conn.execute(
            sa.select(problems.c.slug).where(problems.c.slug == slug).with_for_update()
        )
        if taken.first() is not None:
            raise ApiError(409, "slug_taken", f"a problem {slug!r} exists (or existed)", "slug")
        judging = judging_of(body, await store_tests(conn, body.tests))
        await conn.execute(
            problems.insert().values(
                slug=slug,
                title=body.title,
                statement=body.statement,
                version=1,
                created_at=now,
                updated_at=now,
            )
        )
        await _add_version(conn, slug, 1, judging, now)
    return Problem(slug, ProblemText(title=body.title, statement=body.statement), 1, 1, judging, now, now)


async def update_problem(engine: AsyncEngine, slug: str, body: ProblemBody) -> Problem:
    """Replace a problem's definition: a new version when its judging changed, else the same one."""
    now = utcnow()
    async with engine.begin() as conn:
        current = await read_problem(conn, slug, lock=True)
        if current is None:
            raise not_found("problem")
        judging = judging_of(body, await store_tests(conn, body.tests))
        version = current.version
        if judging != current.judging:
            version += 1
            await _add_version(conn, slug, version, judging, now)
        await conn.execute(
            problems.update()
            .where(problems.c.slug == slug)
            .values(title=body.title, statement=body.statement, version=version, updated_at=now)
        )
    text = ProblemText(title=body.title, statement=body.statement)
    return Problem(slug, text, version, version, judging, current.created_at, now)


async def _add_version(
    conn: AsyncConnection, slug: str, version: int, judging: Judging, now: datetime
) -> None:
    await conn.execute(
        problem_versions.insert().values(
            slug=slug, version=version, judging=judging.model_dump_json(exclude_none=True), created_at=now
        )
    )


async def read_problem(
    conn: AsyncConnection, slug: str, version: int | None = None, *, lock: bool = False
) -> Problem | None:
    """Problem ``slug`` at ``version`` (None: its current one), or None when there is no such (live)
    problem or version."""
    query = sa.select(problems).where(problems.c.slug == slug, problems.c.deleted_at.is_(None))
    row = (await conn.execute(query.with_for_update() if lock else query)).first()
    if row is None:
        return None
    wanted = row.version if version is None else version
    judging = await read_judging(conn, slug, wanted)
    if judging is None:
        return None
    text = ProblemText(title=row.title, statement=row.statement)
    return Problem(slug, text, wanted, row.version, judging, row.created_at, row.updated_at)


async def read_judging(conn: AsyncConnection, slug: str, version: int) -> Judging | None:
    """The judging of version ``version`` of ``slug`` (deleted problems' versions too), or None."""
    query = sa.select(problem_versions.c.judging).where(
        problem_versions.c.slug == slug, problem_versions.c.version == version
    )
    row = (await conn.execute(query)).first()
    return None if row is None else Judging.model_validate_json(row.judging)


async def fetch_problem(engine: AsyncEngine, slug: str, version: int | None = None) -> Problem | None:
    """:func:`read_problem` in a connection of its own."""
    async with engine.connect() as conn:
        return await read_problem(conn, slug, version)


async def list_problems(engine: AsyncEngine) -> list[tuple[str, str, int]]:
    """(slug, title, current version) of every live problem, by slug."""
    query = sa.select(problems.c.slug, problems.c.title, problems.c.version).where(
        problems.c.deleted_at.is_(None)
    )
    async with engine.connect() as conn:
        rows = (await conn.execute(query.order_by(problems.c.slug))).all()
    return [(row.slug, row.title, row.version) for row in rows]


async def delete_problem(engine: AsyncEngine, slug: str) -> bool:
    """Mark a problem deleted (no longer listed or submittable; its versions stay, so queued jobs and old
    submissions remain judgeable); False when there is no live problem ``slug``."""
    async with engine.begin() as conn:
        done = await conn.execute(
            problems.update()
            .where(problems.c.slug == slug, problems.c.deleted_at.is_(None))
            .values(deleted_at=utcnow())
        )
    return bool(done.rowcount)


async def replace_tests(engine: AsyncEngine, slug: str, archive: TestArchive) -> Problem:
    """Replace the tests of problem ``slug`` (and its checker or interactor, when the archive's manifest
    names them) with the archive's, one file in memory at a time; a new version when that changes its
    judging."""
    now = utcnow()
    async with engine.begin() as conn:
        current = await read_problem(conn, slug, lock=True)
        if current is None:
            raise not_found("problem")
        tests = []
        for name, input_entry, output_entry in archive.tests:
            # Decompressing takes a while: off the event loop (one entry at a time, as zipfile wants).
            stdin = await asyncio.to_thread(archive.read, input_entry)
            answer = await asyncio.to_thread(archive.read, output_entry)
            tests.append(await store_test(conn, stdin, answer, archive.manifest.tests.get(name, TestMeta())))
        changes: dict[str, object] = {"tests": tests}
        for kind in PROGRAMS:
            if (program := archive.program(kind)) is not None:
                changes[kind] = program
        judging = current.judging.model_copy(update=changes)
        version = current.version
        if judging != current.judging:
            version += 1
            await _add_version(conn, slug, version, judging, now)
            await conn.execute(
                problems.update().where(problems.c.slug == slug).values(version=version, updated_at=now)
            )
    return Problem(slug, current.text, version, version, judging, current.created_at, now)
