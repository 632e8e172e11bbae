"""Admission of job messages and the size cap of published events (pure)."""

import uuid
from datetime import UTC, datetime

import orjson
import pytest

from common.contract import AdmissionLimits
from schemas.codec import decode_result
from schemas.jobs import Limits
from schemas.results import Outcome, ResultEvent, RunReport, TestEvent, TestReport
from schemas.verdicts import Verdict
from worker.errors import JobRejected
from worker.handler import Admission
from worker.publisher import encode_within

pytestmark = pytest.mark.unit

ADMISSION = Admission("python", AdmissionLimits(max_source_bytes=100, max_stdin_bytes=10))


def raw_job(**fields: object) -> bytes:
    return orjson.dumps(
        {"v": 1, "id": str(uuid.uuid4()), "language": "python", "source": "print(1)", **fields}
    )


def test_a_valid_job_is_admitted() -> None:
    job = ADMISSION.admit(raw_job(stdin="0123456789"))
    assert job.source == "print(1)"


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (None, "empty message"),
        (b"{not json", "not JSON"),
        (b"[1, 2]", "JSON object"),
        (raw_job(v=2), "unsupported version"),
        (raw_job(source=None), "source"),
        (raw_job(language="rust"), "'rust' sent to the 'python' workers"),
        (raw_job(source="x" * 101), "source is larger than 100 bytes"),
        (raw_job(source="é" * 51), "source is larger than 100 bytes"),  # bytes, not characters
        (raw_job(stdin="x" * 11), "stdin is larger"),
        (raw_job(tests=[{"stdin": "x" * 11, "expected_output": ""}]), "tests.0.stdin is larger"),
        (raw_job(tests=[{"expected_output": "x" * 11}]), "tests.0.expected_output is larger than 10 bytes"),
        (raw_job(limits={"time_ms": 0}), "limits.time_ms"),
    ],
)
def test_bad_messages_are_rejected_with_a_reason(raw: bytes | None, reason: str) -> None:
    with pytest.raises(JobRejected) as caught:
        ADMISSION.admit(raw)
    assert reason in caught.value.reason


def report(index: int, size: int) -> TestReport:
    return TestReport(index=index, verdict=Verdict.ACCEPTED, stdout="\x01" * size, stderr="e" * size)


def test_small_events_are_encoded_unchanged() -> None:
    event = TestEvent(id=uuid.uuid4(), seq=2, test=report(0, 10), at=datetime.now(UTC))
    assert decode_result(encode_within(event, 100_000)) == event


def test_a_large_result_is_cut_to_fit_and_marked_truncated() -> None:
    outcome = Outcome(
        verdict=Verdict.ACCEPTED,
        run=RunReport(verdict=Verdict.ACCEPTED, stdout="o" * 500_000),
        tests=[report(i, 300_000) for i in range(3)],
        limits=Limits(),
    )
    event = ResultEvent(id=uuid.uuid4(), seq=5, outcome=outcome, at=datetime.now(UTC))
    data = encode_within(event, 200_000)
    assert len(data) <= 200_000
    decoded = decode_result(data)
    assert isinstance(decoded, ResultEvent)
    assert decoded.outcome.run is not None
    assert decoded.outcome.run.stdout_truncated
    assert all(t.stdout_truncated and t.stderr_truncated for t in decoded.outcome.tests)
    assert all(t.stdout.startswith("\x01") for t in decoded.outcome.tests)  # the start is kept
