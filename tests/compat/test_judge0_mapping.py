"""Judge0's side of the translation, without services: requests to native submissions, native outcomes
to Judge0 statuses and attributes."""

import base64
import io
import zipfile
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from api.compat.errors import CompatError
from api.compat.judge0.catalog import STATUSES, judge0_languages
from api.compat.judge0.requests import ALL_FIELDS, DEFAULT_FIELDS, parse_judge0_submission, query_fields
from api.compat.judge0.views import NOT_UTF8, all_attributes, status_id, submission_view
from api.submissions.repository import SubmissionRow, SubmittedProgram
from common.runtimes import default_runtimes_dir, load_runtimes
from schemas import RunReport, Status, Verdict

pytestmark = pytest.mark.unit

RUNTIMES = load_runtimes(default_runtimes_dir())
LANGUAGES = judge0_languages(RUNTIMES)


def refusal(data: Any, base64_encoded: bool = False) -> dict[str, Any]:
    with pytest.raises(CompatError) as caught:
        parse_judge0_submission(data, LANGUAGES, base64_encoded)
    assert caught.value.status_code == 422
    return caught.value.body


def test_every_runtime_has_judge0_ids_and_no_id_is_taken_twice() -> None:
    ids = [i for rt in RUNTIMES.values() for i in rt.compat.judge0_ids]
    assert len(ids) == len(set(ids))
    wanted = {71: "python", 54: "cpp", 50: "c", 62: "java", 63: "javascript", 60: "go", 73: "rust"}
    assert {i: LANGUAGES[i].id for i in wanted} == wanted
    # Judge0 CE 1.13.1 has no entry for these (its Prolog is GNU Prolog, another dialect).
    without = {rt.id for rt in RUNTIMES.values() if not rt.compat.judge0_ids}
    assert without == {"pypy", "nim", "racket", "prolog"}


def test_a_submission_maps_to_the_native_request_in_judge0_units() -> None:
    parsed = parse_judge0_submission(
        {"source_code": "print(1)", "language_id": 71, "stdin": "x", "cpu_time_limit": 1.5,
         "wall_time_limit": 4, "memory_limit": 200_000, "max_file_size": 10},
        LANGUAGES,
        False,
    )  # fmt: skip
    assert parsed.native == {
        "language": "python",
        "source": "print(1)",
        "stdin": "x",
        "limits": {
            "time_ms": 1500,
            "wall_ms": 4000,
            "memory_mb": 196,
            "output_kb": 10,
            "file_size_kb": 10,
            "stack_kb": 64000,
        },
    }


def test_expected_output_makes_one_native_test_and_defaults_are_judge0s() -> None:
    parsed = parse_judge0_submission(
        {"source_code": "cHJpbnQoMSk=", "language_id": 54, "stdin": "MQ==", "expected_output": "Mgo="},
        LANGUAGES,
        True,
    )
    assert parsed.native["source"] == "print(1)"
    assert parsed.native["tests"] == [{"stdin": "1", "expected_output": "2\n"}]
    assert parsed.native["limits"] == {
        "time_ms": 5000, "wall_ms": 10000, "memory_mb": 125, "output_kb": 1024, "file_size_kb": 1024,
        "stack_kb": 64000,
    }  # fmt: skip


def test_run_options_map_to_the_native_request() -> None:
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("lib/util.py", "X = 1\n")
        zipped.writestr("data.bin", b"\xff\x00")
    parsed = parse_judge0_submission(
        {"source_code": "x", "language_id": 54, "compiler_options": "-O0  -std=c++20",
         "command_line_arguments": "one 'two words' \"$HOME\"", "redirect_stderr_to_stdout": True,
         "number_of_runs": 3, "stack_limit": 1000, "max_processes_and_or_threads": 7,
         "additional_files": base64.b64encode(archive.getvalue()).decode()},
        LANGUAGES,
        False,
        max_files_bytes=1000,
    )  # fmt: skip
    native = parsed.native
    assert native["compiler_options"] == ["-O0", "-std=c++20"]
    assert native["args"] == ["one", "two words", "$HOME"]  # quotes group words; nothing is expanded
    assert native["redirect_stderr_to_stdout"] is True and native["runs"] == 3
    assert (native["limits"]["stack_kb"], native["limits"]["processes"]) == (1000, 7)
    assert native["files"] == [
        {"path": "lib/util.py", "content": base64.b64encode(b"X = 1\n").decode(), "encoding": "base64"},
        {"path": "data.bin", "content": "/wA=", "encoding": "base64"},
    ]


def zip_of(entries: dict[str, bytes], *, compression: int = zipfile.ZIP_STORED) -> str:
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w", compression=compression) as zipped:
        for name, data in entries.items():
            zipped.writestr(zipfile.ZipInfo(name), data, compress_type=compression)
    return base64.b64encode(archive.getvalue()).decode()


@pytest.mark.parametrize(
    ("archive", "status", "says"),
    [
        ("%%%", 422, "not valid Base64"),
        (base64.b64encode(b"not a zip").decode(), 422, "not a zip archive"),
        (zip_of({"../escape.py": b"x"}), 422, "relative path"),
        (zip_of({"/etc/cron.d/x": b"x"}), 422, "relative path"),
        (zip_of({"a/../../b": b"x"}), 422, "relative path"),
        # A bomb: 10 MB of zeros in a few KB; refused after reading just past the limit.
        (zip_of({"zeros": bytes(10_000_000)}, compression=zipfile.ZIP_DEFLATED), 413, "limit"),
        (zip_of({f"f{i}": b"" for i in range(65)}), 422, "the limit is 64"),
    ],
)
def test_bad_additional_files_are_refused(archive: str, status: int, says: str) -> None:
    with pytest.raises(CompatError) as caught:
        parse_judge0_submission(
            {"source_code": "x", "language_id": 71, "additional_files": archive}, LANGUAGES, False, 100_000
        )
    assert caught.value.status_code == status
    assert (
        list(caught.value.body) == ["additional_files"] and says in caught.value.body["additional_files"][0]
    )


def test_judge0_defaults_of_optional_fields_are_accepted() -> None:
    parse_judge0_submission(
        {"source_code": "x", "language_id": 71, "compiler_options": None, "command_line_arguments": "",
         "number_of_runs": 1, "redirect_stderr_to_stdout": False, "enable_network": False,
         "cpu_extra_time": 1, "stack_limit": 64000, "max_processes_and_or_threads": 60, "callback_url": None,
         "enable_per_process_and_thread_time_limit": False, "additional_files": None},
        LANGUAGES,
        False,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("field", "value", "says"),
    [
        ("compiler_options", 3, "must be a string"),
        ("command_line_arguments", "a 'b", "cannot be split"),
        ("additional_files", "UEsDBA==", "not a zip archive"),
        ("redirect_stderr_to_stdout", "yes", "true or false"),
        ("number_of_runs", 21, "less than or equal to 20"),
        ("number_of_runs", 0, "greater than 0"),
        ("cpu_extra_time", 2, "not supported yet"),
        ("stack_limit", 200_000, "less than or equal to 128000"),
        ("max_processes_and_or_threads", 1.5, "not an integer"),
        ("enable_per_process_and_thread_memory_limit", True, "not supported yet"),
        ("enable_network", True, "never gives a job a network"),
        ("language_id", 9999, "language with id 9999 doesn't exist"),
        ("language_id", "71", "doesn't exist"),
        ("cpu_time_limit", 11, "less than or equal to 10"),
        ("cpu_time_limit", -1, "greater than 0"),
        ("wall_time_limit", "soon", "not a number"),
        ("memory_limit", 10**9, "less than or equal to 1048576"),
        ("max_file_size", True, "not a number"),
        ("stdin", 5, "must be a string"),
        ("expected_output", ["a"], "must be a string"),
        ("source_code", "", "can't be blank"),
        ("colour", "red", "not a Judge0 submission attribute"),
    ],
)
def test_each_bad_field_is_refused_by_name(field: str, value: Any, says: str) -> None:
    body = refusal({"source_code": "print(1)", "language_id": 71, field: value})
    assert list(body) == [field] and says in body[field][0]


def test_base64_that_is_not_base64_is_refused_by_name() -> None:
    assert "Base64" in refusal({"source_code": "%%%", "language_id": 71}, True)["source_code"][0]


def test_base64_bytes_that_are_not_utf8_travel_as_their_bytes() -> None:
    latin1 = base64.b64encode("é".encode("latin-1")).decode()
    plain = parse_judge0_submission(
        {"source_code": "eA==", "language_id": 71, "stdin": latin1}, LANGUAGES, True
    )
    assert (plain.native["source"], plain.native["stdin"], plain.native["stdin_b64"]) == (
        "x",
        "\ufffd",
        latin1,
    )
    assert "source_b64" not in plain.native  # UTF-8 stays text only
    body = {"source_code": latin1, "language_id": 71, "stdin": latin1, "expected_output": latin1}
    tested = parse_judge0_submission(body, LANGUAGES, True).native
    assert tested["source_b64"] == latin1
    assert tested["tests"] == [
        {"stdin": "\ufffd", "stdin_b64": latin1, "expected_output": "\ufffd", "expected_output_b64": latin1}
    ]


def test_runtime_errors_split_by_signal_as_judge0_does() -> None:
    def report(**fields: Any) -> RunReport:
        return RunReport(verdict=Verdict.RUNTIME_ERROR, **fields)

    assert status_id(Status.FINISHED, Verdict.RUNTIME_ERROR, report(signal="SIGSEGV")) == 7
    assert status_id(Status.FINISHED, Verdict.RUNTIME_ERROR, report(signal="SIGFPE")) == 9
    assert status_id(Status.FINISHED, Verdict.RUNTIME_ERROR, report(signal="SIGABRT")) == 10
    assert status_id(Status.FINISHED, Verdict.RUNTIME_ERROR, report(signal="SIGKILL")) == 12
    assert status_id(Status.FINISHED, Verdict.RUNTIME_ERROR, report(exit_code=1)) == 11
    assert status_id(Status.FINISHED, Verdict.OUTPUT_LIMIT_EXCEEDED, None) == 8
    assert status_id(Status.QUEUED, None, None) == 1
    assert status_id(Status.RUNNING, None, None) == 2
    assert status_id(Status.FINISHED, Verdict.WRONG_ANSWER, None) == 4
    assert status_id(Status.FINISHED, Verdict.PRESENTATION_ERROR, None) == 4  # Judge0 has no such status
    assert STATUSES[11] == "Runtime Error (NZEC)" and len(STATUSES) == 14


def _row(stdout: str, **run_fields: Any) -> SubmissionRow:
    at = datetime(2026, 1, 2, 3, 4, 5, 678_000, tzinfo=UTC)
    run = {
        "verdict": "accepted",
        "exit_code": 0,
        "time_ms": 31,
        "wall_ms": 40,
        "memory_kb": 900,
        "stdout": stdout,
        **run_fields,
    }
    outcome = {"verdict": "accepted", "run": run, "limits": {"time_ms": 5000, "memory_mb": 125}}
    return SubmissionRow(
        id="0b6f5f6e-0000-4000-8000-000000000000", language="python", status=Status.FINISHED,
        verdict="accepted", spec={}, outcome=outcome, last_seq=2, worker="w", origin="http",
        created_at=at, started_at=at, finished_at=at,
    )  # fmt: skip


def test_attributes_in_judge0_units_and_fields() -> None:
    attributes = all_attributes(_row("hi\n"), SubmittedProgram("print('hi')", ""), RUNTIMES["python"])
    assert set(attributes) == set(ALL_FIELDS)
    view = submission_view(attributes, DEFAULT_FIELDS, base64_encoded=False)
    assert view == {
        "stdout": "hi\n", "time": "0.031", "memory": 900, "stderr": None,
        "token": "0b6f5f6e-0000-4000-8000-000000000000", "compile_output": None, "message": None,
        "status": {"id": 3, "description": "Accepted"},
    }  # fmt: skip
    encoded = submission_view(attributes, query_fields({"fields": "stdout,created_at,language_id"}), True)
    assert encoded == {"stdout": "aGkK", "created_at": "2026-01-02T03:04:05.678Z", "language_id": 71}


def test_output_that_was_not_utf8_is_refused_in_plain_text_and_sent_as_its_bytes() -> None:
    raw = b"\xff\xfeok\n"
    row = _row(raw.decode(errors="replace"), stdout_b64=base64.b64encode(raw).decode())
    attributes = all_attributes(row, SubmittedProgram("x", ""), RUNTIMES["python"])
    with pytest.raises(CompatError) as caught:
        submission_view(attributes, DEFAULT_FIELDS, base64_encoded=False)
    assert caught.value.status_code == 400 and caught.value.body == {"error": NOT_UTF8}
    encoded = submission_view(attributes, DEFAULT_FIELDS, base64_encoded=True)["stdout"]
    assert encoded is not None
    assert base64.b64decode(encoded) == raw  # the program's bytes, not the text with U+FFFD
    text = all_attributes(_row("\ufffd is text\n"), SubmittedProgram("x", ""), RUNTIMES["python"])
    assert submission_view(text, DEFAULT_FIELDS, base64_encoded=False)["stdout"] == "\ufffd is text\n"


def test_input_that_was_not_utf8_reads_back_as_its_bytes() -> None:
    raw = b"caf\xe9\n"
    b64 = base64.b64encode(raw).decode()
    row = replace(
        _row("ok\n"),
        spec={"source_b64": b64, "tests": [{"expected_output": "?", "expected_output_b64": b64}]},
    )
    attributes = all_attributes(row, SubmittedProgram("caf\ufffd\n", ""), RUNTIMES["python"])
    fields = ("source_code", "stdin", "expected_output")
    encoded = submission_view(attributes, fields, base64_encoded=True)
    assert (encoded["source_code"], encoded["stdin"], encoded["expected_output"]) == (b64, "", b64)
    with pytest.raises(CompatError) as caught:
        submission_view(attributes, fields, base64_encoded=False)
    assert caught.value.body == {"error": NOT_UTF8}


def test_unknown_fields_in_the_query_are_refused_by_name() -> None:
    with pytest.raises(CompatError) as caught:
        query_fields({"fields": "stdout,nope"})
    assert "fields" in caught.value.body


def test_a_multi_file_program_is_its_scripts() -> None:
    files = {"run": b"./prog\n", "compile": b"gcc -o prog main.c\n", "main.c": b"int main(void){}\n"}
    parsed = parse_judge0_submission(
        {"language_id": 89, "additional_files": zip_of(files)}, LANGUAGES, False, 10**6
    )
    assert parsed.runtime.id == "cpp" and parsed.native["run_scripts"] is True
    assert parsed.native["source"] == "./prog\n"  # the run script is the job's source
    assert {file["path"] for file in parsed.native["files"]} == {"compile", "main.c"}
    no_run = {"language_id": 89, "additional_files": zip_of({"main.c": b"x"})}
    with pytest.raises(CompatError) as caught:
        parse_judge0_submission(no_run, LANGUAGES, False, 10**6)
    assert "additional_files" in caught.value.body
    assert "source_code" in refusal({"language_id": 54})  # other languages still need their source


def test_an_executable_is_sent_base64_encoded_passed_on_as_it_is_and_shown_as_its_bytes() -> None:
    elf = b"\x7fELF\x02\x01\x01\x00\xff\xfe"
    encoded = base64.b64encode(elf).decode()
    parsed = parse_judge0_submission({"source_code": encoded, "language_id": 44}, LANGUAGES, True, 10**6)
    assert (parsed.native["language"], parsed.native["source"]) == ("executable", encoded)
    script = parse_judge0_submission(
        {"source_code": "#!/bin/sh\necho hi\n", "language_id": 44}, LANGUAGES, False, 10**6
    )
    assert base64.b64decode(script.native["source"]) == b"#!/bin/sh\necho hi\n"
    assert refusal({"source_code": "not base64!", "language_id": 44}, True)["source_code"]
    attributes = all_attributes(_row("hi\n"), SubmittedProgram(encoded, ""), RUNTIMES["executable"])
    fields = query_fields({"fields": "source_code"})
    assert submission_view(attributes, fields, base64_encoded=True) == {"source_code": encoded}
