"""Result messages: what workers publish about a job while and after it runs.

Topic ``results``, key = submission id, value = one of the JSON events below, told apart by ``event``.
``seq`` orders one submission's events and is deterministic (the same run publishes the same seqs), so a
consumer can drop duplicates, and it is the SSE event id: ``queued`` is 0 (the API's own), ``running`` 1,
test ``i`` ``2 + i``, the final ``result`` one more than the last event before it.
"""

import base64
from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from schemas.jobs import LanguageId, Limits
from schemas.verdicts import Status, Verdict

SEQ_QUEUED = 0
SEQ_RUNNING = 1


def seq_for_test(index: int) -> int:
    """The ``seq`` of test ``index``'s event."""
    return 2 + index


class _Wire(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class RunReport(_Wire):
    """How one execution of the program (or the compiler) went."""

    verdict: Verdict
    exit_code: int | None = None
    """Exit status, or None when killed by a signal or never started."""
    signal: str | None = None
    """Name of the signal that ended it, e.g. ``SIGKILL``."""
    time_ms: int = 0
    """CPU time, milliseconds."""
    wall_ms: int = 0
    memory_kb: int = 0
    """Peak resident memory, KiB."""
    stdout: str = ""
    """What it wrote to stdout, as text (bytes that are not UTF-8 become U+FFFD: see ``stdout_b64``)."""
    stderr: str = ""
    stdout_truncated: bool = False
    stderr_truncated: bool = False
    stdout_b64: str | None = None
    """The exact bytes of stdout in Base64, present only when they are not valid UTF-8. Optional since
    v1 was first published."""
    stderr_b64: str | None = None
    """The exact bytes of stderr in Base64, present only when they are not valid UTF-8."""
    interleaving: list[tuple[Literal[1, 2], int]] | None = None
    """How stdout (1) and stderr (2) alternated as the worker read them: runs of ``[stream, bytes]`` in
    order, over the exact bytes of each; present only when both have output. At most 1000 runs: bytes
    past the last run come after it, the rest of stdout before the rest of stderr. Optional since v1
    was first published."""

    def output_bytes(self) -> tuple[bytes, bytes]:
        """The exact bytes of stdout and of stderr."""
        stdout = base64.b64decode(self.stdout_b64) if self.stdout_b64 is not None else self.stdout.encode()
        stderr = base64.b64decode(self.stderr_b64) if self.stderr_b64 is not None else self.stderr.encode()
        return stdout, stderr

    def combined_output(self) -> bytes:
        """stdout and stderr as one stream, in the order they were written as far as ``interleaving``
        tells (without it: stdout, then stderr)."""
        streams = dict(zip((1, 2), self.output_bytes(), strict=True))
        taken = {1: 0, 2: 0}
        parts = []
        for stream, size in self.interleaving or ():
            parts.append(streams[stream][taken[stream] : taken[stream] + size])
            taken[stream] += size
        return b"".join([*parts, streams[1][taken[1] :], streams[2][taken[2] :]])


class TestReport(RunReport):
    """One test's run; ``index`` is its position in the job's ``tests``."""

    __test__ = False

    index: int
    checker_message: str | None = None
    """What the job's checker or interactor wrote to stderr on this test (cut to a few KiB), when it has
    one. Optional since v1 was first published."""
    hidden: bool | None = None
    """``true``: the test is hidden (a stored problem's): ``stdout``, ``stderr``, their Base64 and
    ``checker_message`` are left empty, whatever the program printed."""


class GroupScore(_Wire):
    """One test group of a scored job (IOI-style subtask): its points count only when all its tests
    passed."""

    group: str
    points: int
    """What the group is worth: the sum of its tests' points."""
    score: int
    """``points`` when every test of the group was accepted, else 0."""
    passed: bool


class Outcome(_Wire):
    """The full outcome of a job. ``verdict`` is the first test that was not accepted, else accepted."""

    verdict: Verdict
    run: RunReport | None = None
    """The single run when the job had no ``tests``."""
    compile: RunReport | None = None
    """The compiler's run, for compiled languages."""
    tests: list[TestReport] = Field(default_factory=list)
    limits: Limits
    """The effective limits the job ran under."""
    score: int | None = None
    """With tests that have ``points``: the points earned (each accepted test outside a group, each
    group whose tests all passed); None for unscored jobs."""
    max_score: int | None = None
    groups: list[GroupScore] | None = None
    """With test groups: the score of each, in order of first appearance."""
    message: str | None = None
    """For ``internal_error``: what went wrong on our side."""
    worker: str | None = None


class StatusEvent(_Wire):
    """The job changed status (a worker took it: ``running``)."""

    v: Literal[1] = 1
    id: UUID
    event: Literal["status"] = "status"
    seq: int
    status: Status
    worker: str | None = None
    at: datetime


class TestEvent(_Wire):
    """One test finished. Published in test order."""

    __test__ = False

    v: Literal[1] = 1
    id: UUID
    event: Literal["test"] = "test"
    seq: int
    test: TestReport
    at: datetime


class ResultEvent(_Wire):
    """The job finished: the last event of a submission."""

    v: Literal[1] = 1
    id: UUID
    event: Literal["result"] = "result"
    seq: int
    outcome: Outcome
    at: datetime
    language: LanguageId | None = None
    """The job's runtime id, so the result is counted under its language even when it is recorded
    before its job is (a job produced straight to Kafka). Optional since v1 was first published."""


ResultMessage = Annotated[StatusEvent | TestEvent | ResultEvent, Field(discriminator="event")]
"""Any message on the ``results`` topic."""

RESULT_MESSAGE_ADAPTER: TypeAdapter[StatusEvent | TestEvent | ResultEvent] = TypeAdapter(ResultMessage)
