"""Running whole jobs with the real python runtime (compile, tests, comparison, scratch directories)."""

import uuid
from pathlib import Path
from typing import Any

import pytest

from common.runtimes import Runtime
from schemas.jobs import JobMessage
from schemas.results import TestReport
from schemas.verdicts import Verdict
from worker.errors import InternalError
from worker.execute import ExecConfig, execute_job

pytestmark = pytest.mark.unit

DOUBLE = "print(int(input()) * 2)"


def job(source: str, **fields: Any) -> JobMessage:
    return JobMessage.model_validate({"id": uuid.uuid4(), "language": "python", "source": source, **fields})


def cases(*pairs: tuple[str, str]) -> list[dict[str, str]]:
    return [{"stdin": stdin, "expected_output": expected} for stdin, expected in pairs]


def test_single_run_without_tests(python_runtime: Runtime, exec_config: ExecConfig) -> None:
    outcome = execute_job(job("print(input()[::-1])", stdin="abc\n"), python_runtime, exec_config)
    assert outcome.verdict is Verdict.ACCEPTED
    assert outcome.run is not None
    assert outcome.run.stdout == "cba\n"
    assert outcome.run.exit_code == 0
    assert outcome.tests == []
    assert outcome.worker == "test-worker"
    assert outcome.limits.wall_ms == 3 * outcome.limits.time_ms  # effective limits are echoed


def test_single_run_that_fails(python_runtime: Runtime, exec_config: ExecConfig) -> None:
    outcome = execute_job(job("raise SystemExit(4)"), python_runtime, exec_config)
    assert outcome.verdict is Verdict.RUNTIME_ERROR
    assert outcome.run is not None
    assert outcome.run.exit_code == 4


def test_tests_are_judged_and_reported_in_order(python_runtime: Runtime, exec_config: ExecConfig) -> None:
    reported: list[TestReport] = []
    the_job = job(DOUBLE, tests=cases(("1", "2"), ("5", "11"), ("7", "14  \n\n")))
    outcome = execute_job(the_job, python_runtime, exec_config, reported.append)
    assert [t.verdict for t in outcome.tests] == [Verdict.ACCEPTED, Verdict.WRONG_ANSWER, Verdict.ACCEPTED]
    assert outcome.verdict is Verdict.WRONG_ANSWER
    assert reported == outcome.tests
    assert [t.index for t in reported] == [0, 1, 2]
    assert reported[1].stdout == "10\n"


def test_stop_on_first_failure(python_runtime: Runtime, exec_config: ExecConfig) -> None:
    the_job = job(DOUBLE, tests=cases(("1", "2"), ("5", "11"), ("7", "14")), stop_on_first_failure=True)
    outcome = execute_job(the_job, python_runtime, exec_config)
    assert [t.index for t in outcome.tests] == [0, 1]
    assert outcome.verdict is Verdict.WRONG_ANSWER


def test_compare_mode_is_applied(python_runtime: Runtime, exec_config: ExecConfig) -> None:
    source = "print(1 / 3, 'x')"
    as_float = job(source, tests=cases(("", "0.333333 x")), compare={"mode": "float", "tolerance": 1e-5})
    exact = job(source, tests=cases(("", "0.333333 x")), compare="exact")
    assert execute_job(as_float, python_runtime, exec_config).verdict is Verdict.ACCEPTED
    assert execute_job(exact, python_runtime, exec_config).verdict is Verdict.WRONG_ANSWER


def test_limits_apply_per_test(python_runtime: Runtime, exec_config: ExecConfig) -> None:
    source = "n = int(input())\nwhile n: pass\nprint(0)"
    the_job = job(source, tests=cases(("0", "0"), ("1", "0")), limits={"time_ms": 300})
    outcome = execute_job(the_job, python_runtime, exec_config)
    assert [t.verdict for t in outcome.tests] == [Verdict.ACCEPTED, Verdict.TIME_LIMIT_EXCEEDED]
    assert outcome.verdict is Verdict.TIME_LIMIT_EXCEEDED


def test_the_program_sees_only_a_minimal_environment(
    python_runtime: Runtime, exec_config: ExecConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EXECUTIONER_SECRET", "hunter2")
    outcome = execute_job(job("import os; print(sorted(os.environ))"), python_runtime, exec_config)
    assert outcome.run is not None
    # Ours, and what the runtime's own file adds (nothing of the worker's).
    assert outcome.run.stdout == f"{sorted({'HOME', 'LANG', 'PATH', 'TMPDIR', *python_runtime.env})}\n"


def test_scratch_directory_is_fresh_and_removed(python_runtime: Runtime, exec_config: ExecConfig) -> None:
    source = "import os; print(sorted(os.listdir())); os.mkdir('locked'); os.chmod('locked', 0)"
    outcome = execute_job(job(source), python_runtime, exec_config)
    assert outcome.run is not None
    assert outcome.run.stdout == "['main.py']\n"
    assert list(exec_config.scratch_dir.iterdir()) == []


def test_compilation(python_runtime: Runtime, exec_config: ExecConfig) -> None:
    compiled = python_runtime.model_copy(update={"compile": ["python3", "-m", "py_compile", "{source}"]})
    good = execute_job(job(DOUBLE, tests=cases(("2", "4"))), compiled, exec_config)
    assert good.verdict is Verdict.ACCEPTED
    assert good.compile is not None
    assert good.compile.verdict is Verdict.ACCEPTED

    bad = execute_job(job("print(", tests=cases(("2", "4"))), compiled, exec_config)
    assert bad.verdict is Verdict.COMPILATION_ERROR
    assert bad.compile is not None
    assert "SyntaxError" in bad.compile.stderr
    assert bad.tests == []


def test_placeholders_get_the_limit_of_each_step(python_runtime: Runtime, exec_config: ExecConfig) -> None:
    # The compiler sees the runtime's compile budget, the program the job's memory limit.
    report = "import os, sys; print(sys.argv[1], os.environ['HEAP'])"
    runtime = python_runtime.model_copy(
        update={
            "compile": ["python3", "-c", report, "{memory_mb}"],
            "run": ["python3", "{source}", "{memory_mb}"],
            "env": {"HEAP": "{memory_mb}MiB"},
            "compile_memory_mb": 300,
        }
    )
    outcome = execute_job(
        job("import os, sys; print(sys.argv[1], os.environ['HEAP'])", limits={"memory_mb": 100}),
        runtime,
        exec_config,
    )
    assert outcome.compile is not None and outcome.run is not None
    assert outcome.compile.stdout == "300 300MiB\n"
    assert outcome.run.stdout == "100 100MiB\n"


def test_our_failures_raise_and_clean_up(python_runtime: Runtime, exec_config: ExecConfig) -> None:
    broken = python_runtime.model_copy(update={"run": ["no-such-interpreter", "{source}"]})
    with pytest.raises(InternalError):
        execute_job(job(DOUBLE), broken, exec_config)
    assert list(exec_config.scratch_dir.iterdir()) == []

    nowhere = ExecConfig(scratch_dir=Path(exec_config.scratch_dir / "missing"), worker_id="w")
    with pytest.raises(InternalError, match="scratch directory"):
        execute_job(job(DOUBLE), python_runtime, nowhere)
