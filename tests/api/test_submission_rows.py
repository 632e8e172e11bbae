"""A new submission row, whoever creates it (the HTTP API, the job intake, the results recorder), sets
every column that has no default and only columns the table has; the job's options go to ``spec``."""

import uuid
from datetime import datetime
from typing import Any

import orjson
import pytest

from api.db.submission_rows import Origin, new_submission_row, placeholder_submission_row
from common.tables import submissions
from schemas import JobMessage

pytestmark = pytest.mark.unit

CREATED = datetime(2026, 1, 2, 3, 4, 5, 678901)


def _required_columns() -> set[str]:
    return {
        column.name
        for column in submissions.columns
        if not column.nullable and column.server_default is None and column.default is None
    }


def _job() -> JobMessage:
    return JobMessage.model_validate(
        {
            "id": str(uuid.uuid4()),
            "language": "python",
            "source": "print(input())",
            "stdin": "hi",
            "tests": [{"stdin": "1", "expected_output": "1"}],
            "stop_on_first_failure": True,
        }
    )


@pytest.mark.parametrize("origin", list(Origin))
def test_a_new_row_holds_the_job(origin: Origin) -> None:
    job = _job()
    row = new_submission_row(job, origin=origin, created_at=CREATED)
    assert _required_columns() <= row.keys() <= set(submissions.c.keys())
    spec: dict[str, Any] = orjson.loads(row.pop("spec"))
    assert spec["tests"] == [{"stdin": "1", "expected_output": "1"}]
    assert spec["stop_on_first_failure"] is True
    assert set(spec) == {"tests", "limits", "compare", "stop_on_first_failure"}
    assert row == {
        "id": str(job.id),
        "language": "python",
        "source": "print(input())",
        "stdin": "hi",
        "status": "queued",
        "last_seq": 0,
        "origin": origin.value,
        "created_at": CREATED,
        "owner_key": None,
        "problem_slug": None,
        "problem_version": None,
    }


def test_a_placeholder_row_is_queued_from_kafka_with_no_job() -> None:
    submission_id = uuid.uuid4()
    row = placeholder_submission_row(submission_id, created_at=CREATED)
    assert _required_columns() <= row.keys() <= set(submissions.c.keys())
    assert row == {
        "id": str(submission_id),
        "language": "",
        "source": "",
        "stdin": "",
        "spec": "{}",
        "status": "queued",
        "last_seq": 0,
        "origin": "kafka",
        "created_at": CREATED,
        "owner_key": None,
    }
