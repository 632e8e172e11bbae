"""The public JSON of a submission, built from its stored row."""

from dataclasses import replace
from uuid import uuid4

import pytest

from api.submissions.views import submission_view
from schemas import Verdict
from tests.api.support import graded_result, queued_row, recorded_row, single_run_result

pytestmark = pytest.mark.unit


def test_job_with_tests_reports_the_worst_time_and_memory_and_every_test() -> None:
    sid = uuid4()
    row = replace(queued_row(sid), spec={"tests": [{"expected_output": "1"}] * 2})
    view = submission_view(recorded_row(row, graded_result(sid, [Verdict.ACCEPTED, Verdict.WRONG_ANSWER])))

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
