"""Reading a jobs file: every bad line is named with its number before anything is sent."""

import io
import json
from pathlib import Path
from uuid import UUID

import pytest

from cli.__main__ import main
from grader import GradeJob, JobsFileError, grade, parse_jobs, read_jobs

pytestmark = pytest.mark.unit

GOOD = json.dumps({"language": "python", "source": "print(1)"})


def lines(*texts: str) -> list[bytes]:
    return [text.encode() for text in texts]


def problems(*texts: str) -> list[tuple[int, str]]:
    with pytest.raises(JobsFileError) as caught:
        parse_jobs(lines(*texts))
    return caught.value.problems


def test_ids_and_version_are_completed_and_unknown_fields_kept() -> None:
    given = "7D0C3F7E-1A52-4C55-9A53-0F7A3D0B8A41"
    jobs = parse_jobs(lines(GOOD, json.dumps({"id": given, "language": "python", "source": "x", "new": 1})))
    generated, own = jobs
    assert UUID(generated.id).version == 4
    assert generated.message == {"v": 1, "id": generated.id, "language": "python", "source": "print(1)"}
    assert own.id == given.lower()  # canonical: the key the worker's results will carry
    assert own.message["new"] == 1  # a newer cluster may understand it
    assert own.http_body() == {"language": "python", "source": "x", "new": 1}


def test_every_bad_line_is_reported_with_its_number() -> None:
    found = problems(
        GOOD,
        "",  # blank lines are skipped, yet counted
        "{oops",
        "[1, 2]",
        json.dumps({"language": "python"}),
        json.dumps({"v": 2, "language": "python", "source": "x"}),
        json.dumps({"id": "nope", "language": "python", "source": "x"}),
        json.dumps({"language": "python", "source": "x", "compare": {"mode": "float", "tolerance": 5}}),
        json.dumps({"language": "python", "source": "x", "tests": [{"stdin": "1"}]}),
        json.dumps({"language": "Python!", "source": "x"}),
    )
    assert [line for line, _ in found] == [3, 4, 5, 6, 7, 8, 9, 10]
    texts = dict(found)
    assert texts[3].startswith("not JSON")
    assert texts[4] == "a job must be a JSON object"
    assert texts[5] == "field 'source': Field required"
    assert texts[6] == "unsupported version v=2 (this client speaks v=1)"
    assert texts[7] == "field 'id': 'nope' is not a UUID"
    assert texts[8] == "field 'compare.tolerance': Input should be less than or equal to 1"
    assert texts[9] == "field 'tests.0.expected_output': Field required"
    assert texts[10].startswith("field 'language': String should match pattern")


def test_a_duplicate_id_names_both_lines() -> None:
    job = json.dumps({"id": "7d0c3f7e-1a52-4c55-9a53-0f7a3d0b8a41", "language": "python", "source": "x"})
    assert problems(job, GOOD, job) == [
        (3, "duplicate id 7d0c3f7e-1a52-4c55-9a53-0f7a3d0b8a41 (first on line 1)")
    ]


def test_an_empty_file_has_no_jobs() -> None:
    with pytest.raises(JobsFileError, match=r"^there are no jobs$"):
        parse_jobs(lines("", "  "))


def test_the_message_lists_ten_problems_then_counts_the_rest() -> None:
    with pytest.raises(JobsFileError) as caught:
        parse_jobs(lines(*["{"] * 13))
    text = str(caught.value).splitlines()
    assert text[0].startswith("line 1: not JSON")
    assert text[9].startswith("line 10: not JSON")
    assert text[10] == "... and 3 more"


def test_read_jobs_reads_a_file(tmp_path: Path) -> None:
    path = tmp_path / "jobs.jsonl"
    path.write_text(f"{GOOD}\n\n{GOOD}\n")
    assert [job.line for job in read_jobs(path)] == [1, 3]


async def test_grade_refuses_bad_jobs_before_connecting_anywhere() -> None:
    # No cluster is configured: the jobs are refused before any connection is tried.
    job = GradeJob(line=7, id="x", language="python", message={"language": "python"})
    with pytest.raises(JobsFileError, match=r"^line 7: field 'source': Field required$"):
        await grade([job])


def test_the_command_exits_2_naming_the_bad_lines(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "jobs.jsonl"
    path.write_text(f"{GOOD}\nnot json\n")
    assert main(["grade", str(path), "--via", "kafka", "--out", str(tmp_path / "out.jsonl")]) == 2
    err = capsys.readouterr().err
    assert f"executioner grade: {path} has invalid jobs:" in err
    assert "line 2: not JSON" in err
    assert not (tmp_path / "out.jsonl").exists()


def test_the_command_exits_2_for_a_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "nope.jsonl"
    assert main(["grade", str(missing), "--via", "http", "--out", str(tmp_path / "out.jsonl")]) == 2
    assert f"cannot read {missing}" in capsys.readouterr().err


def test_the_command_reads_jobs_from_stdin(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(b"\n[]\n")))
    assert main(["grade", "-", "--via", "kafka", "--out", str(tmp_path / "out.jsonl")]) == 2
    assert "line 2: a job must be a JSON object" in capsys.readouterr().err
