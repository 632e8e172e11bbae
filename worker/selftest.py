"""The start-up self-test: the runtime's echo program must run through the real execute path (the pool,
limits, judging) and print the self-test input back exactly. A worker that fails it never consumes."""

import uuid

from common.runtimes import SELFTEST_INPUT, Runtime
from schemas.jobs import JobMessage, TestCase
from schemas.results import Outcome, TestReport
from schemas.verdicts import Verdict
from worker.errors import InternalError, StartupError
from worker.pool import Pool

DETAIL_CHARS = 2000


def selftest_job(runtime: Runtime, language: str) -> JobMessage:
    """One test, compared exactly: stdin comes back unchanged."""
    return JobMessage(
        id=uuid.uuid4(),
        language=language,
        source=runtime.selftest.source,
        tests=[TestCase(stdin=SELFTEST_INPUT, expected_output=SELFTEST_INPUT)],
        compare="exact",
    )


def check_outcome(outcome: Outcome) -> None:
    """Raise :class:`StartupError` unless the echo was accepted."""
    if outcome.verdict is Verdict.ACCEPTED:
        return
    report = outcome.compile if outcome.verdict is Verdict.COMPILATION_ERROR else None
    report = report or (outcome.tests[0] if outcome.tests else None)
    detail = ""
    if report is not None:
        detail = (
            f"; exit {report.exit_code}, signal {report.signal}, "
            f"stdout {report.stdout[:DETAIL_CHARS]!r}, stderr {report.stderr[-DETAIL_CHARS:]!r}"
        )
    raise StartupError(f"self-test failed: {outcome.verdict}{detail}")


async def run_selftest(pool: Pool, runtime: Runtime, language: str) -> None:
    """Run the self-test in ``pool``; :class:`StartupError` says why it failed."""

    async def ignore(_: TestReport) -> None:
        return None

    try:
        outcome = await pool.run(selftest_job(runtime, language), ignore)
    except InternalError as exc:
        raise StartupError(f"self-test could not run: {exc}") from exc
    check_outcome(outcome)
