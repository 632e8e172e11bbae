"""The process pool, job retries and the start-up self-test (real pool processes)."""

import asyncio
import contextlib
import os
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest

from common.contract import AdmissionLimits
from common.runtimes import Runtime
from schemas.checks import CheckReply, CheckRequest
from schemas.jobs import JobMessage
from schemas.results import Outcome, TestReport
from schemas.verdicts import Verdict
from tests.worker.records import FetchedRecord
from worker.errors import PoolProcessLost, StartupError
from worker.execute import ExecConfig
from worker.handler import Admission, JobHandler
from worker.job_start import JobRecord
from worker.pool import Pool
from worker.retries import RetryPolicy
from worker.selftest import run_selftest

pytestmark = pytest.mark.unit

KILL_MY_POOL_PROCESS = "import os, signal; os.kill(os.getppid(), signal.SIGKILL)"


def job(source: str, **fields: Any) -> JobMessage:
    return JobMessage.model_validate({"id": uuid.uuid4(), "language": "python", "source": source, **fields})


@pytest.fixture
async def pool(python_runtime: Runtime, exec_config: ExecConfig) -> AsyncIterator[Pool]:
    pool = Pool(2, python_runtime, exec_config)
    await pool.start()
    yield pool
    await pool.close()


class RecordingPublisher:
    """Stands in for the Kafka publisher and its batches: records events, acknowledges at once."""

    def __init__(self) -> None:
        self.events: list[tuple[str, int]] = []
        self.outcome: Outcome | None = None

    @contextlib.asynccontextmanager
    async def batch(self) -> AsyncIterator["RecordingPublisher"]:
        yield self

    async def running(self, job: JobMessage) -> None:
        self.events.append(("running", 1))

    async def test(self, job: JobMessage, report: TestReport) -> None:
        self.events.append(("test", 2 + report.index))

    async def result(self, job: JobMessage, outcome: Outcome, seq: int) -> None:
        self.events.append(("result", seq))
        self.outcome = outcome


def job_handler(pool: Pool, publisher: RecordingPublisher, max_attempts: int) -> JobHandler:
    return JobHandler(
        Admission("python", AdmissionLimits()),
        pool,
        publisher,  # type: ignore[arg-type]
        RetryPolicy(max_attempts),
        worker_id="w",
        max_deliveries=3,
    )


async def run(handler: JobHandler, pool: Pool, publisher: RecordingPublisher, the_job: JobMessage) -> Outcome:
    async with pool.slot() as slot:
        return await handler.run(the_job, slot, publisher)  # type: ignore[arg-type]


async def no_reports(_: TestReport) -> None:
    return None


async def test_jobs_run_concurrently_and_stream_their_tests(pool: Pool) -> None:
    reports: list[int] = []

    async def on_test(report: TestReport) -> None:
        reports.append(report.index)

    the_job = job("print(input())", tests=[{"stdin": str(i), "expected_output": str(i)} for i in range(3)])
    outcomes = await asyncio.gather(*(pool.run(the_job, on_test) for _ in range(4)))
    assert [o.verdict for o in outcomes] == [Verdict.ACCEPTED] * 4
    assert sorted(reports) == [0] * 4 + [1] * 4 + [2] * 4


async def test_a_dead_pool_process_is_replaced(pool: Pool) -> None:
    with pytest.raises(PoolProcessLost):
        await pool.run(job(KILL_MY_POOL_PROCESS), no_reports)
    for _ in range(3):  # both slots work again, one of them with a fresh process
        outcome = await pool.run(job("print('ok')"), no_reports)
        assert outcome.verdict is Verdict.ACCEPTED


ESCAPE_THE_SESSION = """
import os, sys, time
read_end, write_end = os.pipe()
if os.fork() == 0:
    os.setsid()  # a new session: killing the job's session no longer reaches it
    if os.fork() == 0:
        os.write(write_end, str(os.getpid()).encode())
        time.sleep(60)
    os._exit(0)  # the grandchild is an orphan now
os.close(write_end)
print(os.read(read_end, 32).decode())
"""


async def test_a_double_forked_process_that_left_the_session_dies_with_the_job(pool: Pool) -> None:
    outcome = await pool.run(job(ESCAPE_THE_SESSION), no_reports)
    assert outcome.verdict is Verdict.ACCEPTED
    assert outcome.run is not None
    escaped = int(outcome.run.stdout)
    # The pool process adopted the orphan (it is a child subreaper), killed it and reaped it.
    with pytest.raises(ProcessLookupError):
        os.kill(escaped, 0)


async def test_our_failures_are_retried_then_reported_as_internal_error(pool: Pool) -> None:
    publisher = RecordingPublisher()
    handler = job_handler(pool, publisher, max_attempts=2)
    the_job = job("print(input())\n" + KILL_MY_POOL_PROCESS, tests=[{"stdin": "a", "expected_output": "a"}])
    outcome = await run(handler, pool, publisher, the_job)
    assert outcome.verdict is Verdict.INTERNAL_ERROR
    assert outcome.message is not None and "2 attempts" in outcome.message
    assert publisher.events[0] == ("running", 1)
    assert publisher.events[-1] == ("result", 2)  # after the last event of any attempt


async def test_the_result_follows_the_last_test(pool: Pool) -> None:
    publisher = RecordingPublisher()
    handler = job_handler(pool, publisher, max_attempts=1)
    the_job = job("print(input())", tests=[{"stdin": "a", "expected_output": "a"}] * 2)
    outcome = await run(handler, pool, publisher, the_job)
    assert outcome.verdict is Verdict.ACCEPTED
    assert publisher.events == [("running", 1), ("test", 2), ("test", 3), ("result", 4)]


async def test_a_job_starts_only_once_a_live_pool_process_is_reserved_for_it(
    python_runtime: Runtime, exec_config: ExecConfig
) -> None:
    """One capacity gate: right after a pool process died, the next job's start is recorded (committed,
    in the consumer) only once its replacement is up and reserved for it, never before."""
    pool = Pool(1, python_runtime, exec_config)
    await pool.start()
    try:
        publisher = RecordingPublisher()
        handler = job_handler(pool, publisher, max_attempts=1)
        up_at_start: list[int] = []

        @contextlib.asynccontextmanager
        async def start() -> AsyncIterator[int]:
            up_at_start.append(pool.up)
            yield 0

        for source in (KILL_MY_POOL_PROCESS, "print('next')"):
            value = job(source).model_dump_json().encode()
            record: JobRecord = FetchedRecord(value)
            await handler.handle(record, start)
        assert up_at_start == [1, 1]  # the second start came after the respawn, not before it
        assert publisher.outcome is not None and publisher.outcome.verdict is Verdict.ACCEPTED
    finally:
        await pool.close()


async def test_selftest_passes_with_the_python_runtime(pool: Pool, python_runtime: Runtime) -> None:
    await run_selftest(pool, python_runtime, "python")


async def test_selftest_fails_when_the_echo_is_wrong(pool: Pool, python_runtime: Runtime) -> None:
    broken = python_runtime.model_copy(
        update={"selftest": python_runtime.selftest.model_copy(update={"source": "print('no')"})}
    )
    with pytest.raises(StartupError, match="wrong_answer"):
        await run_selftest(pool, broken, "python")


async def test_a_check_answered_elsewhere_reaches_the_job_and_its_wait_is_not_counted(
    python_runtime: Runtime, exec_config: ExecConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[CheckRequest] = []

    async def slow_other_worker(request: CheckRequest) -> CheckReply:
        asked.append(request)
        await asyncio.sleep(1.0)  # another worker compiling the checker: longer than the job's budget
        verdict = Verdict.ACCEPTED if request.output_bytes() == b"3 2 1\n" else Verdict.WRONG_ANSWER
        return CheckReply(id=request.id, reply_to=request.reply_to, verdict=verdict, message="far away")

    monkeypatch.setattr("worker.pool.job_budget_s", lambda job, runtime: 0.8)
    pool = Pool(1, python_runtime, exec_config, check_elsewhere=slow_other_worker)
    await pool.start()
    try:
        tests = [{"stdin": "3", "expected_output": "1 2 3"}, {"stdin": "2", "expected_output": "1 2"}]
        checker = {"language": "elsewhere", "source": "checks in a language this image lacks"}
        the_job = job("print(*range(int(input()), 0, -1))", tests=tests, checker=checker)
        outcome = await pool.run(the_job, lambda report: asyncio.sleep(0))
    finally:
        await pool.close()
    assert [(t.verdict, t.checker_message) for t in outcome.tests] == [
        (Verdict.ACCEPTED, "far away"),
        (Verdict.WRONG_ANSWER, "far away"),
    ]
    assert [(r.test_index, r.submission_id, r.reply_to) for r in asked] == [
        (0, the_job.id, exec_config.worker_id),
        (1, the_job.id, exec_config.worker_id),
    ]
    assert asked[0].test.stdin == "3" and asked[0].checker.language == "elsewhere"
