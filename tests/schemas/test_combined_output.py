"""A run's stdout and stderr as one stream, rebuilt from the order the worker recorded (pure)."""

import base64

import pytest

from schemas import RunReport, Verdict

pytestmark = pytest.mark.unit


def test_the_recorded_order_rebuilds_one_stream_over_exact_bytes() -> None:
    report = RunReport(
        verdict=Verdict.ACCEPTED,
        stdout="a\ufffdc",
        stdout_b64=base64.b64encode(b"a\xffc").decode(),
        stderr="XYZ",
        interleaving=[(1, 1), (2, 2), (1, 2)],
    )
    assert report.combined_output() == b"aXY\xffcZ"  # the bytes past the last run come at the end


def test_without_an_order_stdout_comes_first() -> None:
    report = RunReport(verdict=Verdict.ACCEPTED, stdout="out", stderr="err")
    assert report.combined_output() == b"outerr"
