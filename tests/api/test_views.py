"""The public JSON of a submission, built from its stored row."""

from dataclasses import replace
from typing import Any
from uuid import uuid4

import orjson
import pytest
from pydantic import TypeAdapter, ValidationError

from api.submissions.repository import SubmittedProgram
from api.submissions.views import Submission, SubmissionResult, submission_view, submitted_view
from schemas import Verdict
from tests.api.support import graded_result, queued_row, recorded_row, single_run_result

pytestmark = pytest.mark.unit


def test_job_with_tests_reports_the_worst_time_and_memory_and_every_test() -> None:
    sid = uuid4()
    row = replace(queued_row(sid), spec={"tests": [{"expected_output": "1"}] * 2})
    # As a client reads it: the reports are JSON objects.
    view = orjson.loads(
        orjson.dumps(
            submission_view(recorded_row(row, graded_result(sid, [Verdict.ACCEPTED, Verdict.WRONG_ANSWER])))
        )
    )

    assert (view["status"], view["verdict"], view["time_ms"], view["memory_kb"]) == (
        "finished",
        "wrong_answer",
        11,
        1001,
    )
    assert view["stdout"] is None and view["exit_code"] is None
    assert [t["index"] for t in view["tests"]] == [0, 1]
    assert view["finished_at"] == "2025-01-02T03:04:05.678901Z"


def test_single_run_reports_its_output() -> None:
    sid = uuid4()
    view = submission_view(recorded_row(queued_row(sid), single_run_result(sid, stdout="hi\n")))

    assert (view["stdout"], view["exit_code"], view["time_ms"], view["tests"]) == ("hi\n", 0, 12, None)
    assert view["worker"] == "worker-a"


def documented(view: object, shape: type) -> Any:
    """``view`` as a client reads it (its JSON), validated against the type ``/schema`` documents for it,
    with no attribute more or less."""
    data = orjson.loads(orjson.dumps(view))
    assert set(data) == shape.__required_keys__ | shape.__optional_keys__  # type: ignore[attr-defined]
    return TypeAdapter(shape).validate_python(data)


def test_views_are_what_the_openapi_document_says() -> None:
    sid = uuid4()
    tests_row = replace(queued_row(sid), spec={"tests": [{"expected_output": "1"}] * 2, "files": ["a.py"]})
    graded = recorded_row(tests_row, graded_result(sid, [Verdict.ACCEPTED, Verdict.WRONG_ANSWER]))
    single = recorded_row(queued_row(sid), single_run_result(sid, stdout="hi\n"))
    for row in (queued_row(sid), graded, single):
        documented(submission_view(row), SubmissionResult)
        full = documented(
            {**submission_view(row), "submitted": submitted_view(row, SubmittedProgram("x", "y"))}, Submission
        )
        assert full["submitted"]["source"] == "x"
    # The check sees a view that strays from its type.
    with pytest.raises(AssertionError):
        documented({**submission_view(single), "surprise": 1}, SubmissionResult)
    with pytest.raises(ValidationError):
        documented({**submission_view(single), "time_ms": "fast"}, SubmissionResult)
