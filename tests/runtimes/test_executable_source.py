"""The Executable runtime's source is a Base64-encoded program: how it is admitted, refused and written
(no Docker; its verdict table is in test_runtime_verdicts.py)."""

import base64
import stat
import uuid
from pathlib import Path

import pytest

from api.lib.errors import ApiError
from api.settings import ApiSettings
from api.submissions.requests import SubmissionRules, parse_submission
from common.admission import runtime_mismatch
from common.runtimes import load_runtimes
from schemas.jobs import JobMessage
from tests.runtimes.cases import RUNTIMES
from worker.execute import write_program

pytestmark = pytest.mark.unit

RUNTIMES_BY_ID = load_runtimes(RUNTIMES)
EXECUTABLE = RUNTIMES_BY_ID["executable"]
PROGRAM = b"\x7fELF\x02\x01\x01\x00" + bytes(range(256))


def _job(source: str) -> JobMessage:
    return JobMessage.model_validate({"id": uuid.uuid4(), "language": "executable", "source": source})


def test_the_program_is_written_as_the_bytes_its_base64_stands_for_and_executable(tmp_path: Path) -> None:
    encoded = base64.encodebytes(PROGRAM).decode()  # line breaks, as `base64` writes them, are fine
    write_program(_job(encoded), EXECUTABLE, tmp_path)
    written = tmp_path / EXECUTABLE.source_file
    assert written.read_bytes() == PROGRAM
    assert written.stat().st_mode & stat.S_IXUSR


def test_a_text_runtime_writes_the_source_as_utf8_text(tmp_path: Path) -> None:
    python = RUNTIMES_BY_ID["python"]
    job = JobMessage.model_validate({"id": uuid.uuid4(), "language": "python", "source": "print('é')"})
    write_program(job, python, tmp_path)
    assert (tmp_path / "main.py").read_bytes() == "print('é')".encode()


@pytest.mark.parametrize("source", ["not base64!", "QUJD=extra", "===="])
def test_a_source_that_is_not_base64_is_refused_naming_the_field(source: str) -> None:
    mismatch = runtime_mismatch(_job(source), EXECUTABLE)
    assert mismatch is not None and mismatch.field == "source", mismatch
    rules = SubmissionRules.from_settings(ApiSettings(), RUNTIMES_BY_ID)
    body = f'{{"language": "elf", "source": "{source}"}}'.encode()
    with pytest.raises(ApiError) as refused:
        parse_submission(body, rules, uuid.uuid4())
    assert (refused.value.status_code, refused.value.field) == (422, "source")


def test_base64_is_admitted_and_the_selftest_is_a_script_any_machine_runs() -> None:
    assert runtime_mismatch(_job(base64.b64encode(PROGRAM).decode()), EXECUTABLE) is None
    assert EXECUTABLE.program_bytes(EXECUTABLE.selftest.source.encode()) == b"#!/bin/sh\nexec cat\n"
    assert RUNTIMES_BY_ID["python"].program_bytes(b"not base64!") == b"not base64!"
