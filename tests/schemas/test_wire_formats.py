"""The wire formats are a public contract: round trips, strict decoding and the checked-in JSON Schema."""

from datetime import UTC, datetime
from uuid import uuid4

import orjson
import pytest

from schemas import (
    DecodeError,
    JobMessage,
    Limits,
    Outcome,
    ResultEvent,
    RunReport,
    Status,
    StatusEvent,
    Verdict,
    decode_job,
    decode_result,
    encode,
)
from schemas.generate import OUT_DIR, documents, render

pytestmark = pytest.mark.unit


def test_checked_in_json_schema_matches_the_models() -> None:
    for name, doc in documents().items():
        assert (OUT_DIR / name).read_bytes() == render(doc), f"{name} drifted: run `make schemas`"


def test_minimal_job_round_trips_with_defaults() -> None:
    job_id = uuid4()
    raw = orjson.dumps({"v": 1, "id": str(job_id), "language": "python", "source": "print(1)"})
    job = decode_job(raw)
    assert job.id == job_id
    assert job.stdin == "" and job.tests is None and job.compare == "trim"
    assert job.limits.effective().wall_ms == 3 * job.limits.time_ms
    assert decode_job(encode(job)) == job


def test_request_features_round_trip_and_default_when_missing() -> None:
    job_id = uuid4()
    full = {
        "v": 1, "id": str(job_id), "language": "cpp", "source": "x", "args": ["a", "b c"],
        "compiler_options": ["-O0"], "redirect_stderr_to_stdout": True, "runs": 3,
        "files": [
            {"path": "lib/a.h", "content": "int a;"},
            {"path": "b.bin", "content": "/w==", "encoding": "base64"},
        ],
        "limits": {"stack_kb": 65536, "processes": 8},
    }  # fmt: skip
    job = decode_job(orjson.dumps(full))
    assert job.args == ["a", "b c"] and job.compiler_options == ["-O0"] and job.runs == 3
    assert [f.data() for f in job.files] == [b"int a;", b"\xff"]
    assert (job.limits.stack_kb, job.limits.processes) == (65536, 8)
    assert decode_job(encode(job)) == job
    # A producer that predates them sends none: the defaults are what the workers did before.
    old = decode_job(orjson.dumps({"v": 1, "id": str(job_id), "language": "cpp", "source": "x"}))
    assert (old.args, old.compiler_options, old.files, old.redirect_stderr_to_stdout, old.runs) == (
        [],
        [],
        [],
        False,
        1,
    )
    assert (old.limits.stack_kb, old.limits.processes) == (None, None)
    report = RunReport(verdict=Verdict.ACCEPTED, stdout="\ufffd", stdout_b64="/w==")
    assert RunReport.model_validate_json(report.model_dump_json()).stdout_b64 == "/w=="
    assert RunReport.model_validate({"verdict": "accepted"}).stdout_b64 is None


def test_unknown_fields_are_ignored_within_v1() -> None:
    raw = orjson.dumps({"v": 1, "id": str(uuid4()), "language": "c", "source": "x", "priority": "high"})
    assert decode_job(raw).language == "c"


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        (b"not json", None),
        (b"[1, 2]", None),
        (orjson.dumps({"v": 2, "id": str(uuid4()), "language": "c", "source": "x"}), "v"),
        (orjson.dumps({"v": 1, "language": "c", "source": "x"}), "id"),
        (orjson.dumps({"v": 1, "id": "nope", "language": "c", "source": "x"}), "id"),
        (orjson.dumps({"v": 1, "id": str(uuid4()), "language": "c", "source": ""}), "source"),
        (orjson.dumps({"v": 1, "id": str(uuid4()), "language": "c", "source": 5}), "source"),
        (
            orjson.dumps(
                {"v": 1, "id": str(uuid4()), "language": "c", "source": "x", "limits": {"time_ms": 10**6}}
            ),
            "limits.time_ms",
        ),
        (
            orjson.dumps(
                {"v": 1, "id": str(uuid4()), "language": "c", "source": "x", "compare": {"mode": "regex"}}
            ),
            "compare",
        ),
        (
            orjson.dumps(
                {"v": 1, "id": str(uuid4()), "language": "c", "source": "x", "files": [{"path": "../x"}]}
            ),
            "files.0.path",
        ),
        (orjson.dumps({"v": 1, "id": str(uuid4()), "language": "c", "source": "x", "runs": 0}), "runs"),
        (orjson.dumps({"v": 1, "id": str(uuid4()), "language": "c", "source": "x", "args": [1]}), "args"),
    ],
)
def test_invalid_jobs_name_the_field(raw: bytes, field: str | None) -> None:
    with pytest.raises(DecodeError) as caught:
        decode_job(raw)
    if field is None:
        assert caught.value.field is None
    else:
        assert caught.value.field is not None and caught.value.field.startswith(field)
    assert caught.value.reason


def test_result_messages_decode_by_event_kind() -> None:
    job_id = uuid4()
    now = datetime.now(UTC)
    status = StatusEvent(id=job_id, seq=1, status=Status.RUNNING, worker="w1", at=now)
    result = ResultEvent(
        id=job_id,
        seq=2,
        at=now,
        outcome=Outcome(
            verdict=Verdict.ACCEPTED,
            run=RunReport(verdict=Verdict.ACCEPTED, exit_code=0, stdout="hi\n"),
            limits=Limits().effective(),
        ),
    )
    assert decode_result(encode(status)) == status
    decoded = decode_result(encode(result))
    assert isinstance(decoded, ResultEvent)
    assert decoded.outcome.run is not None and decoded.outcome.run.stdout == "hi\n"
    with pytest.raises(DecodeError):
        decode_result(orjson.dumps({"v": 1, "id": str(job_id), "event": "bogus", "seq": 3}))


def test_job_message_is_the_model_the_schema_documents() -> None:
    schema = documents()["job.v1.json"]
    assert set(schema["required"]) == {"id", "language", "source"}
    assert set(schema["properties"]) == set(JobMessage.model_fields)
