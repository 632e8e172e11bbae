"""What happens to one Kafka record: reject it to the dead-letter topic, or run it (retrying our own
failures in a fresh pool process) and publish its events. Returns only once Kafka acknowledged them."""

import asyncio
import logging
import time
from dataclasses import dataclass

from schemas.codec import DecodeError, decode_job
from schemas.jobs import JobMessage
from schemas.results import SEQ_RUNNING, Outcome, TestReport, seq_for_test
from schemas.verdicts import Verdict
from worker.errors import InternalError, JobRejected
from worker.pool import OnTest, Pool
from worker.publisher import Ack, Publisher

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Admission:
    """What this worker accepts."""

    language: str
    max_source_bytes: int
    max_stdin_bytes: int

    def admit(self, raw: bytes | None) -> JobMessage:
        """Decode and check one record's value; :class:`JobRejected` says why it will never run here."""
        if raw is None:
            raise JobRejected("empty message (no value)")
        try:
            job = decode_job(raw)
        except DecodeError as exc:
            raise JobRejected(exc.reason) from exc
        if job.language != self.language:
            raise JobRejected(f"language {job.language!r} sent to the {self.language!r} workers")
        if len(job.source.encode()) > self.max_source_bytes:
            raise JobRejected(f"source is larger than {self.max_source_bytes} bytes")
        stdins = [job.stdin, *(test.stdin for test in job.tests or [])]
        if any(len(stdin.encode()) > self.max_stdin_bytes for stdin in stdins):
            raise JobRejected(f"a stdin is larger than {self.max_stdin_bytes} bytes")
        return job


class JobHandler:
    """Handles records of the jobs topic, one call per record (calls run concurrently)."""

    def __init__(
        self, admission: Admission, pool: Pool, publisher: Publisher, *, worker_id: str, max_attempts: int
    ) -> None:
        self._admission = admission
        self._pool = pool
        self._publisher = publisher
        self._worker_id = worker_id
        self._max_attempts = max_attempts

    async def handle(
        self, *, key: bytes | None, value: bytes | None, topic: str, partition: int, offset: int
    ) -> None:
        """Dead-letter or run one record. Raises only when Kafka would not take what we publish."""
        try:
            job = self._admission.admit(value)
        except JobRejected as exc:
            ack = await self._publisher.dead_letter(
                key=key, value=value, reason=exc.reason, topic=topic, partition=partition, offset=offset
            )
            await ack
            log.warning("rejected %s[%d]@%d to dead-letter: %s", topic, partition, offset, exc.reason)
            return
        await self.run(job)

    async def run(self, job: JobMessage) -> Outcome:
        """Run a valid job and publish ``running``, each test and the result; wait for their acks."""
        started = time.monotonic()
        acks: list[Ack] = [await self._publisher.running(job)]
        last_seq = SEQ_RUNNING

        async def on_test(report: TestReport) -> None:
            nonlocal last_seq
            acks.append(await self._publisher.test(job, report))
            last_seq = max(last_seq, seq_for_test(report.index))

        outcome, attempts = await self._run_with_retries(job, on_test)
        # One more than the last event published, including those of failed attempts, so the result is
        # never dropped as a duplicate by a consumer that keeps the highest seq.
        acks.append(await self._publisher.result(job, outcome, last_seq + 1))
        await asyncio.gather(*acks)
        elapsed_ms = round((time.monotonic() - started) * 1000)
        log.info("job %s %s in %d ms (attempts %d)", job.id, outcome.verdict, elapsed_ms, attempts)
        return outcome

    async def _run_with_retries(self, job: JobMessage, on_test: OnTest) -> tuple[Outcome, int]:
        failure = ""
        for attempt in range(1, self._max_attempts + 1):
            try:
                return await self._pool.run(job, on_test), attempt
            except InternalError as exc:
                failure = str(exc)
                log.warning(
                    "job %s attempt %d/%d failed on our side: %s", job.id, attempt, self._max_attempts, exc
                )
        outcome = Outcome(
            verdict=Verdict.INTERNAL_ERROR,
            limits=job.limits.effective(),
            message=f"gave up after {self._max_attempts} attempts: {failure}",
            worker=self._worker_id,
        )
        return outcome, self._max_attempts
