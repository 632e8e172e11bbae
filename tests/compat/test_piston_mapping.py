"""Piston's side of the translation, without services: runtimes and version ranges, execute bodies to
native submissions, outcomes to Piston's stages."""

import base64
from datetime import UTC, datetime
from typing import Any

import pytest

from api.compat.errors import CompatError
from api.compat.piston.catalog import find_runtime, piston_runtimes
from api.compat.piston.requests import native_request, parse_execute, piston_field
from api.compat.piston.views import execute_view, stage_view
from api.compat.versions import semantic_version
from api.submissions.repository import SubmissionRow
from common.runtimes import default_runtimes_dir, load_runtimes
from schemas import RunReport, Status, Verdict

pytestmark = pytest.mark.unit

RUNTIMES = load_runtimes(default_runtimes_dir())
VERSIONS = {
    "python": "Python 3.11.2",
    "cpp": "g++ (Debian 12.2.0-14) 12.2.0",
    "go": "go version go1.19.8 linux/amd64",
}
ENTRIES = piston_runtimes(RUNTIMES.values(), VERSIONS)


def refusal(data: Any) -> str:
    with pytest.raises(CompatError) as caught:
        parse_execute(data)
    assert caught.value.status_code == 400
    message: str = caught.value.body["message"]
    return message


def test_version_lines_give_semantic_versions() -> None:
    assert semantic_version("Python 3.11.2") == "3.11.2"
    assert semantic_version("g++ (Debian 12.2.0-14) 12.2.0") == "12.2.0"
    assert semantic_version("go version go1.19.8 linux/amd64") == "1.19.8"
    assert semantic_version("openjdk 17") == "0.0.0"
    assert semantic_version(None) == "0.0.0"


@pytest.mark.parametrize(
    ("language", "version", "found"),
    [
        ("python", "*", "python"),
        ("py", "3.11.2", "python"),
        ("python3", "3.x", "python"),
        ("python", ">=3.10 <4", "python"),
        ("python", "3.10.0", None),
        ("c++", "12", "cpp"),
        ("cpp", "*", "cpp"),
        ("js", "*", "javascript"),
        ("golang", "^1.19", "go"),
        ("cobol", "*", None),
        ("python", "not-a-range", None),
    ],
)
def test_languages_aliases_and_version_ranges(language: str, version: str, found: str | None) -> None:
    entry = find_runtime(ENTRIES, language, version)
    assert (entry.runtime.id if entry else None) == found


def test_runtimes_list_piston_names_and_aliases() -> None:
    views = {entry.language: entry.view() for entry in ENTRIES}
    assert views["c++"] == {"language": "c++", "version": "12.2.0", "aliases": ["cpp", "g++"]}
    assert "py" in views["python"]["aliases"]


def test_an_execute_body_maps_to_a_native_run() -> None:
    execute = parse_execute(
        {"language": "py", "version": "*", "stdin": "in",
         "files": [{"name": "a.py", "content": "7072696e74283129", "encoding": "hex"}],
         "run_timeout": 2500, "run_cpu_time": 1000, "run_memory_limit": 64 * 2**20}
    )  # fmt: skip
    assert native_request(execute, RUNTIMES["python"]) == {
        "language": "python",
        "source": "print(1)",
        "stdin": "in",
        "limits": {"time_ms": 1000, "wall_ms": 2500, "memory_mb": 64},
    }
    several = parse_execute(
        {"language": "py", "version": "*", "args": ["-v", "two words"],
         "files": [{"content": "import lib"}, {"name": "lib.py", "content": "x = 1"}, {"content": "ff00",
                    "encoding": "hex"}]}
    )  # fmt: skip
    native = native_request(several, RUNTIMES["python"])
    assert native["args"] == ["-v", "two words"]
    assert native["files"] == [
        {"path": "lib.py", "content": "x = 1"},
        {"path": "file2.code", "content": "/wA=", "encoding": "base64"},  # Piston's name for it
    ]
    defaults = parse_execute({"language": "c++", "version": "*", "files": [{"content": "int main(){}"}]})
    assert native_request(defaults, RUNTIMES["cpp"])["limits"] == {"time_ms": 3000, "wall_ms": 3000}


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ({"version": "*", "files": [{"content": "x"}]}, "language is required as a string"),
        ({"language": "py", "files": [{"content": "x"}]}, "version is required as a string"),
        ({"language": "py", "version": "*"}, "files is required"),
        ({"language": "py", "version": "*", "files": []}, "files is required"),
        ({"language": "py", "version": "*", "files": [{}]}, "files[0].content is required"),
        (
            {"language": "py", "version": "*", "files": [{"content": "x", "encoding": "rot13"}]},
            "files[0].encoding",
        ),
        (
            {"language": "py", "version": "*", "files": [{"content": "%%", "encoding": "base64"}]},
            "not valid base64",
        ),
        (
            {
                "language": "py",
                "version": "*",
                "files": [{"content": "x"}, {"content": "zz", "encoding": "hex"}],
            },
            "files[1].content is not valid hex",
        ),
        (
            {"language": "py", "version": "*", "files": [{"content": "x"}, {"name": 5, "content": "y"}]},
            "files[1].name must be a string",
        ),
        (
            {"language": "py", "version": "*", "files": [{"content": "x"}], "args": "a"},
            "args must be an array",
        ),
        (
            {"language": "py", "version": "*", "files": [{"content": "x"}], "stdin": 1},
            "stdin is required as a string",
        ),
        (
            {"language": "py", "version": "*", "files": [{"content": "x"}], "run_timeout": "1"},
            "run_timeout must be",
        ),
        (
            {"language": "py", "version": "*", "files": [{"content": "x"}], "run_cpu_time": -5},
            "run_cpu_time must be",
        ),
        (
            {"language": "py", "version": "*", "files": [{"content": "x"}], "colour": 1},
            "colour is not a field",
        ),
    ],
)
def test_each_bad_field_is_refused_by_name(body: dict[str, Any], says: str) -> None:
    assert says in refusal(body)


def test_native_refusals_name_pistons_fields() -> None:
    assert piston_field("files.0.path") == "files[1].name"
    assert piston_field("files.2.content") == "files[3].content"
    assert piston_field("files") == "files"
    assert piston_field("args.1") == "args[1]"
    assert piston_field("source") == "files[0].content"
    assert piston_field(None) == "request"


def execute_with(**extra: Any) -> Any:
    return parse_execute({"language": "x", "version": "*", "files": [{"content": "x"}], **extra})


def test_limits_beyond_the_clusters_or_the_runtimes_are_refused() -> None:
    def message(extra: dict[str, Any], runtime: str) -> str:
        with pytest.raises(CompatError) as caught:
            native_request(execute_with(**extra), RUNTIMES[runtime])
        return str(caught.value.body["message"])

    assert "run_cpu_time cannot exceed" in message({"run_cpu_time": 20_000}, "python")
    assert "run_memory_limit cannot exceed" in message({"run_memory_limit": 2**40}, "python")
    cpp = RUNTIMES["cpp"]
    assert message({"compile_cpu_time": cpp.compile_time_ms + 1}, "cpp") == (
        f"compile_cpu_time cannot exceed the configured limit of {cpp.compile_time_ms}"
    )
    assert "compile_timeout cannot exceed" in message({"compile_timeout": 3 * cpp.compile_time_ms + 1}, "cpp")
    assert "compile_memory_limit cannot exceed" in message({"compile_memory_limit": 2**40}, "cpp")


def test_compile_limits_map_to_the_jobs_compile_limits() -> None:
    tight = execute_with(compile_cpu_time=800, compile_timeout=2500.5, compile_memory_limit=100 * 2**20 + 1)
    assert native_request(tight, RUNTIMES["cpp"])["compile_limits"] == {
        "time_ms": 800,
        "wall_ms": 2501,
        "memory_mb": 101,
    }
    assert "compile_limits" not in native_request(execute_with(compile_memory_limit=-1), RUNTIMES["cpp"])
    # No compile stage, as in Piston: nothing to limit.
    assert "compile_limits" not in native_request(execute_with(compile_timeout=500), RUNTIMES["python"])


@pytest.mark.parametrize(
    ("report", "status", "message"),
    [
        (RunReport(verdict=Verdict.ACCEPTED, exit_code=0), None, None),
        (RunReport(verdict=Verdict.RUNTIME_ERROR, exit_code=2), "RE", "Exited with error status 2"),
        (RunReport(verdict=Verdict.RUNTIME_ERROR, signal="SIGSEGV"), "SG", "Killed by SIGSEGV"),
        (RunReport(verdict=Verdict.TIME_LIMIT_EXCEEDED, signal="SIGKILL"), "TO", "Time limit exceeded"),
        (RunReport(verdict=Verdict.MEMORY_LIMIT_EXCEEDED, signal="SIGKILL"), "SG", "Memory limit exceeded"),
        (
            RunReport(verdict=Verdict.OUTPUT_LIMIT_EXCEEDED, stdout_truncated=True),
            "OL",
            "stdout length exceeded",
        ),
        (
            RunReport(verdict=Verdict.OUTPUT_LIMIT_EXCEEDED, stderr_truncated=True),
            "EL",
            "stderr length exceeded",
        ),
        (RunReport(verdict=Verdict.INTERNAL_ERROR), "XX", None),
    ],
)
def test_stages_in_pistons_terms(report: RunReport, status: str | None, message: str | None) -> None:
    view = stage_view(report.model_copy(update={"stdout": "o", "stderr": "e", "memory_kb": 2, "time_ms": 5}))
    assert (view["status"], view["message"]) == (status, message)
    assert (view["output"], view["memory"], view["cpu_time"]) == ("oe", 2048, 5)


def _finished(outcome: dict[str, Any]) -> SubmissionRow:
    at = datetime(2026, 1, 2, tzinfo=UTC)
    return SubmissionRow(
        id="0b6f5f6e-0000-4000-8000-000000000000", language="cpp", status=Status.FINISHED,
        verdict=outcome["verdict"], spec={}, outcome=outcome, last_seq=2, worker="w", origin="http",
        created_at=at, started_at=at, finished_at=at,
    )  # fmt: skip


def test_compiled_languages_answer_with_a_compile_stage_and_no_run_when_it_failed() -> None:
    (cpp,) = (entry for entry in ENTRIES if entry.language == "c++")
    compiled = {"verdict": "accepted", "exit_code": 0}
    run = {"verdict": "accepted", "exit_code": 0, "stdout": "hi\n"}
    fine = execute_view(
        _finished({"verdict": "accepted", "compile": compiled, "run": run, "limits": {}}), cpp
    )
    assert (fine["language"], fine["version"]) == ("c++", "12.2.0")
    assert fine["compile"]["code"] == 0 and fine["run"]["stdout"] == "hi\n"
    failed_compile = {"verdict": "compilation_error", "exit_code": 1, "stderr": "error: z"}
    broken = execute_view(
        _finished({"verdict": "compilation_error", "compile": failed_compile, "limits": {}}), cpp
    )
    assert broken["compile"]["status"] == "RE" and "run" not in broken
    lost = execute_view(_finished({"verdict": "internal_error", "message": "disk full", "limits": {}}), cpp)
    assert lost["run"]["status"] == lost["compile"]["status"] == "XX"
    assert lost["run"]["message"] == "disk full"


def test_a_program_that_is_not_utf8_travels_as_its_bytes() -> None:
    latin1 = {
        "language": "x",
        "version": "*",
        "files": [{"content": "7072696e742827e92729", "encoding": "hex"}],
    }
    native = native_request(parse_execute(latin1), RUNTIMES["python"])
    assert base64.b64decode(native["source_b64"]) == b"print('\xe9')"
    assert native["source"] == "print('\ufffd')"
    assert "source_b64" not in native_request(execute_with(), RUNTIMES["python"])
