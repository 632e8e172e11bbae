"""What the native API answers, as typed models. The run and test reports and the limits are the wire
formats' own models (:mod:`schemas`); unknown fields are ignored, so a newer API does not break an older
client."""

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

from schemas import Limits, RunReport, Status, TestReport, Verdict


class _Answer(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class Accepted(_Answer):
    """``POST /api/v1/submissions``'s answer (202): the submission's id and its SSE stream's URL."""

    id: str
    status: Status
    events: str


class Submission(_Answer):
    """``GET /api/v1/submissions/{id}`` (and the SSE ``result`` event's data): the submission, and once
    ``status`` is ``finished`` its verdict, output and reports. A submission with tests has ``tests``
    and, at the top, only the worst test's time and memory."""

    id: str
    language: str
    status: Status
    verdict: Verdict | None = None
    origin: str | None = None
    worker: str | None = None
    created_at: datetime | None = None
    finished_at: datetime | None = None
    stdout: str | None = None
    stderr: str | None = None
    exit_code: int | None = None
    signal: str | None = None
    time_ms: int | None = None
    wall_ms: int | None = None
    memory_kb: int | None = None
    stdout_truncated: bool | None = None
    stderr_truncated: bool | None = None
    stdout_b64: str | None = None
    stderr_b64: str | None = None
    compile: RunReport | None = None
    tests: list[TestReport] | None = None
    limits: Limits | None = None
    message: str | None = None
    submitted: dict[str, Any] | None = None
    """What it was sent with (``GET`` only; absent from the stream's ``result``)."""

    @property
    def finished(self) -> bool:
        """Whether the result is in."""
        return self.status is Status.FINISHED


class StreamEvent(_Answer):
    """One Server-Sent Event of a submission: ``status``, ``test`` or ``result``. ``id`` is its sequence
    number (``queued`` 0, ``running`` 1, test *i* 2+*i*, ``result`` last): pass the last one seen as
    ``last_event_id`` to resume a stream."""

    event: str
    id: int
    data: dict[str, Any]

    @property
    def submission(self) -> Submission | None:
        """The ``result`` event's finished submission; None for other events."""
        return Submission.model_validate(self.data) if self.event == "result" else None
