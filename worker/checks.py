"""Checkers in a language this worker's image does not have, pool-process side (pure of Kafka).

The asking side: a job's checker that cannot run here becomes a :class:`RemoteChecker`; each test's output
goes out as a :class:`schemas.checks.CheckRequest` (through the parent, which sends it to the workers of
the checker's language) and the :class:`schemas.checks.CheckReply` decides the test.

The answering side: :func:`answer_check` runs one request's checker, compiled once per pool process, on
the test's data from this worker's test cache.
"""

import base64
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from common.admission import JUDGE_LANGUAGES_EVERYWHERE
from common.runtimes import Runtime
from schemas.checks import CheckReply, CheckRequest
from schemas.jobs import JobMessage, ProgramSpec, TestCase
from schemas.verdicts import Verdict
from worker.judge_programs import JudgeProgramBroken, JudgePrograms
from worker.test_data import TestFiles

CheckRemotely = Callable[[CheckRequest], CheckReply]
"""Sends a request to the checker's workers and waits for their reply (the pool process asks its parent)."""


def runs_here(language: str, own: Runtime) -> bool:
    """Whether a judge program in ``language`` runs on this worker's image."""
    return language == own.id or language in JUDGE_LANGUAGES_EVERYWHERE


@dataclass(frozen=True, slots=True)
class RemoteChecker:
    """A job's checker that the workers of its own language run, one test at a time."""

    spec: ProgramSpec
    worker_id: str
    ask: CheckRemotely

    def check(self, job: JobMessage, index: int, test: TestCase, output: bytes) -> tuple[Verdict, str]:
        """The checker's verdict and message on ``output``. Raises :class:`JudgeProgramBroken` when it
        cannot be used at all (it does not compile, or no worker of its language answered)."""
        request = CheckRequest(
            id=uuid.uuid4(),
            reply_to=self.worker_id,
            submission_id=job.id,
            test_index=index,
            checker=self.spec,
            test=test.model_copy(update={"hidden": None, "points": None, "group": None}),
            output=base64.b64encode(output).decode(),
        )
        reply = self.ask(request)
        if reply.unusable:
            raise JudgeProgramBroken(reply.message)
        return reply.verdict, reply.message


def answer_check(request: CheckRequest, own: Runtime, judges: JudgePrograms, tests: TestFiles) -> CheckReply:
    """Run the request's checker (a checker in this worker's language) on its test."""
    if request.checker.language != own.id:
        return request.failed(f"a {own.id} worker got a {request.checker.language} check", unusable=True)
    try:
        checker = judges.prepare(request.checker, "checker", own)
    except JudgeProgramBroken as exc:
        return request.failed(str(exc), unusable=True)
    data = tests.data(request.test)
    return request.reply(*judges.check(checker, data.input, request.output_bytes(), data.answer))
