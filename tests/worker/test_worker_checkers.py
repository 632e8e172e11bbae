"""Custom checkers and interactive tests run by the worker itself (no sandbox: the host's python3 and
g++), with the author helper libraries. tests/e2e/test_checkers.py runs the same through a cluster."""

import uuid
from pathlib import Path
from typing import Any

import pytest

from common.runtimes import Runtime, load_runtime
from schemas.jobs import JobMessage
from schemas.results import Outcome
from schemas.verdicts import Verdict
from worker.execute import ExecConfig, execute_job
from worker.judge_programs import JudgePrograms

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[2]
JUDGES = Path(__file__).with_name("judges")


def judge_file(name: str) -> str:
    return (JUDGES / name).read_text()


@pytest.fixture(scope="session")
def cpp_runtime() -> Runtime:
    return load_runtime(REPO / "runtimes" / "cpp" / "runtime.toml")


def job(language: str, source: str, tests: list[tuple[str, str]], **fields: Any) -> JobMessage:
    return JobMessage.model_validate(
        {
            "id": uuid.uuid4(),
            "language": language,
            "source": source,
            "tests": [{"stdin": stdin, "expected_output": answer} for stdin, answer in tests],
            **fields,
        }
    )


def permutation_job(source: str) -> JobMessage:
    checker = {"language": "python", "source": judge_file("permutation_checker.py")}
    return job("python", source, [("3\n", "1 2 3\n"), ("4\n", "1 2 3 4\n")], checker=checker)


def run(the_job: JobMessage, runtime: Runtime, config: ExecConfig) -> Outcome:
    return execute_job(the_job, runtime, config)


def test_checker_accepts_any_permutation(python_runtime: Runtime, exec_config: ExecConfig) -> None:
    backwards = permutation_job("n = int(input())\nprint(*range(n, 0, -1))")
    outcome = run(backwards, python_runtime, exec_config)
    assert [t.verdict for t in outcome.tests] == [Verdict.ACCEPTED, Verdict.ACCEPTED]
    assert outcome.tests[0].stdout == "3 2 1\n"  # not the answer file's permutation, still right
    assert outcome.tests[1].checker_message == "a permutation of 4"


def test_checker_rejects_with_its_message(python_runtime: Runtime, exec_config: ExecConfig) -> None:
    repeated = permutation_job("n = int(input())\nprint(*[1] * n)")
    outcome = run(repeated, python_runtime, exec_config)
    assert outcome.verdict is Verdict.WRONG_ANSWER
    assert outcome.tests[0].checker_message == "3 numbers but not all different"
    short = run(permutation_job("print(1)"), python_runtime, exec_config)
    assert short.tests[0].checker_message == "output: unexpected end of data"


def test_checker_says_presentation_error(python_runtime: Runtime, exec_config: ExecConfig) -> None:
    one_per_line = permutation_job("print(*range(1, int(input()) + 1), sep='\\n')")
    outcome = run(one_per_line, python_runtime, exec_config)
    assert [t.verdict for t in outcome.tests] == [Verdict.PRESENTATION_ERROR] * 2
    assert outcome.verdict is Verdict.PRESENTATION_ERROR
    assert outcome.tests[0].checker_message == "the right numbers, but not on one line"


def test_a_failed_run_is_not_checked(python_runtime: Runtime, exec_config: ExecConfig) -> None:
    outcome = run(permutation_job("raise SystemExit(3)"), python_runtime, exec_config)
    assert outcome.tests[0].verdict is Verdict.RUNTIME_ERROR
    assert outcome.tests[0].checker_message is None


@pytest.mark.parametrize(
    ("checker", "said"),
    [
        ("raise ValueError('checker bug')", "the checker failed (exit code 3) Traceback"),
        (
            "import sys\nsys.stderr.write('bad test data')\nraise SystemExit(3)",
            "the checker failed (exit code 3)",
        ),
        ("import os, signal\nos.kill(os.getpid(), signal.SIGSEGV)", "killed by SIGSEGV"),
        ("while True: pass", "over its time limit"),
    ],
)
def test_a_failing_checker_is_an_internal_error(
    python_runtime: Runtime, exec_config: ExecConfig, checker: str, said: str
) -> None:
    limits = {"time_ms": 300}
    the_job = job(
        "python", "print(1)", [("", "1")], checker={"language": "python", "source": checker, "limits": limits}
    )
    outcome = run(the_job, python_runtime, exec_config)
    assert outcome.verdict is Verdict.INTERNAL_ERROR
    assert said in (outcome.tests[0].checker_message or "")
    assert outcome.message is not None and outcome.message.startswith("test 0: ")


def test_cpp_checker_with_its_own_header_beside_it(cpp_runtime: Runtime, exec_config: ExecConfig) -> None:
    checker = {
        "language": "cpp",
        "source": judge_file("check_sum.cpp"),
        "files": [{"path": "testlib.h", "content": judge_file("stand_in_testlib.h")}],
    }
    source = (
        "#include <iostream>\n"
        "int main() { long long a, b; std::cin >> a >> b; std::cout << a + b - (a == 5); }"
    )
    the_job = job("cpp", source, [("1 2", "3"), ("5 5", "10")], checker=checker)
    outcome = run(the_job, cpp_runtime, exec_config)
    assert [t.verdict for t in outcome.tests] == [Verdict.ACCEPTED, Verdict.WRONG_ANSWER]
    assert [t.checker_message for t in outcome.tests] == ["right sum", "wrong sum"]


def test_cpp_helper_library(cpp_runtime: Runtime, exec_config: ExecConfig) -> None:
    checker = {
        "language": "cpp",
        "source": '#include "executioner_checker.h"\n'
        "int main(int argc, char* argv[]) { executioner::Checker(argc, argv).close_numbers(1e-3); }",
    }
    source = (
        '#include <cstdio>\nint main() { double x; std::scanf("%lf", &x); std::printf("%.4f\\n", x / 3); }'
    )
    the_job = job("cpp", source, [("1", "0.3333333"), ("2", "0.6")], checker=checker)
    outcome = run(the_job, cpp_runtime, exec_config)
    assert [t.verdict for t in outcome.tests] == [Verdict.ACCEPTED, Verdict.WRONG_ANSWER]
    assert "number 1: expected 0.6" in (outcome.tests[1].checker_message or "")


def test_a_checker_that_does_not_compile(cpp_runtime: Runtime, exec_config: ExecConfig) -> None:
    source = "int main() { return 0; }"
    the_job = job("cpp", source, [("", "")], checker={"language": "cpp", "source": "int main() { nope }"})
    outcome = run(the_job, cpp_runtime, exec_config)
    assert outcome.verdict is Verdict.INTERNAL_ERROR
    assert outcome.tests == []
    assert (outcome.message or "").startswith("the checker does not compile:")


def test_a_checker_is_compiled_once(cpp_runtime: Runtime, exec_config: ExecConfig) -> None:
    judges = JudgePrograms(exec_config.sandbox, exec_config.scratch_dir)
    checker = {"language": "cpp", "source": "int main() { return 0; }"}
    the_job = job("cpp", "int main() { return 0; }", [("", "")], checker=checker)
    assert the_job.checker is not None
    first = judges.prepare(the_job.checker, "checker", cpp_runtime)
    again = judges.prepare(the_job.checker, "checker", cpp_runtime)
    assert again.files is first.files  # the cached build, not a second compile
    assert any(path == "main" for path, _, _ in first.files)


GUESS_TESTS = [("100 37 7\n", ""), ("1000 1000 10\n", "")]


def guessing_job(source: str, **fields: Any) -> JobMessage:
    interactor = {
        "language": "python",
        "source": judge_file("guess_interactor.py"),
        "limits": {"time_ms": 1000},
    }
    return job("python", source, GUESS_TESTS, interactor=interactor, **fields)


def test_interactive_accepted(python_runtime: Runtime, exec_config: ExecConfig) -> None:
    outcome = run(guessing_job(judge_file("binary_search.py")), python_runtime, exec_config)
    assert [t.verdict for t in outcome.tests] == [Verdict.ACCEPTED, Verdict.ACCEPTED]
    assert outcome.tests[0].checker_message is not None
    assert outcome.tests[0].checker_message.startswith("found in")
    assert outcome.tests[0].stdout.startswith("? 50\n")  # the program's side of the conversation


def test_interactive_wrong_answer(python_runtime: Runtime, exec_config: ExecConfig) -> None:
    outcome = run(guessing_job("input()\nprint('! 1', flush=True)"), python_runtime, exec_config)
    assert outcome.tests[0].verdict is Verdict.WRONG_ANSWER
    assert outcome.tests[0].checker_message == "guessed 1, the number was 37"


def test_interactive_query_limit(python_runtime: Runtime, exec_config: ExecConfig) -> None:
    outcome = run(guessing_job(judge_file("linear_search.py")), python_runtime, exec_config)
    assert outcome.tests[0].verdict is Verdict.WRONG_ANSWER
    assert outcome.tests[0].checker_message == "more than 7 queries"


def test_interactive_program_that_hangs(python_runtime: Runtime, exec_config: ExecConfig) -> None:
    # Reads n, then waits for an answer to a question it never asks: both sides wait, it is the
    # program's turn, so the program runs out of time; nothing deadlocks.
    the_job = guessing_job("input()\ninput()", limits={"time_ms": 500, "wall_ms": 1500})
    outcome = run(the_job, python_runtime, exec_config)
    assert outcome.tests[0].verdict is Verdict.TIME_LIMIT_EXCEEDED
    assert outcome.tests[0].wall_ms < 4000


def test_interactive_program_that_stops_reading(python_runtime: Runtime, exec_config: ExecConfig) -> None:
    # Floods the interactor without ever reading its answers: the interactor stops it at the query
    # limit, and what the program still writes is dropped until it is stopped.
    the_job = guessing_job(
        "import sys\nwhile True: sys.stdout.write('? 1\\n' * 1000)", limits={"time_ms": 500, "wall_ms": 1500}
    )
    outcome = run(the_job, python_runtime, exec_config)
    assert outcome.tests[0].verdict is Verdict.WRONG_ANSWER  # the interactor ended it, not a deadlock
    assert outcome.tests[0].checker_message == "more than 7 queries"
    assert outcome.tests[0].wall_ms < 3000


def test_interactor_that_hangs_is_an_internal_error(python_runtime: Runtime, exec_config: ExecConfig) -> None:
    hanging = (
        "import time\nprint(int(open('input.txt').read().split()[0]), flush=True)\ninput()\ntime.sleep(60)"
    )
    interactor = {"language": "python", "source": hanging}
    the_job = job(
        "python",
        judge_file("binary_search.py"),
        GUESS_TESTS[:1],
        interactor=interactor,
        limits={"time_ms": 500, "wall_ms": 1500},
    )
    outcome = run(the_job, python_runtime, exec_config)
    assert outcome.verdict is Verdict.INTERNAL_ERROR
    assert "the interactor did not answer" in (outcome.tests[0].checker_message or "")
