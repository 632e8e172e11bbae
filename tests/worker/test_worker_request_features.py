"""The request features of a job, run by the real python runtime on the host (no sandbox): arguments,
compiler options, other files, stderr into stdout, repeated runs, raw output bytes and the stack and
process limits."""

import base64
import uuid
from typing import Any

import pytest

from common.admission import runtime_mismatch
from common.runtimes import Runtime
from schemas.jobs import JobMessage
from schemas.verdicts import Verdict
from worker.commands import compile_command
from worker.execute import ExecConfig, execute_job
from worker.limits import run_limits

pytestmark = pytest.mark.unit


def job(source: str, **fields: Any) -> JobMessage:
    return JobMessage.model_validate({"id": uuid.uuid4(), "language": "python", "source": source, **fields})


def test_arguments_reach_the_program_as_given(python_runtime: Runtime, exec_config: ExecConfig) -> None:
    args = ["one", "two words", "--flag", "$HOME", "ünï"]
    outcome = execute_job(job("import sys; print(sys.argv[1:])", args=args), python_runtime, exec_config)
    assert outcome.run is not None
    assert outcome.run.stdout == f"{args}\n"


def test_compiler_options_go_before_the_source_file(python_runtime: Runtime) -> None:
    compiled = python_runtime.model_copy(
        update={"compile": ["cc", "-O2", "-o", "main", "{source}", "-lm"], "compiler_options": ["-O0"]}
    )
    assert compile_command(compiled, ["-O0"]) == ["cc", "-O2", "-o", "main", "-O0", "main.py", "-lm"]


def test_compiler_options_reach_the_compiler(python_runtime: Runtime, exec_config: ExecConfig) -> None:
    compiled = python_runtime.model_copy(
        update={
            "compile": ["python3", "-c", "import sys; print(sys.argv[1:])", "{source}"],
            "compiler_options": ["-O0", "-g"],
        }
    )
    outcome = execute_job(job("print(1)", compiler_options=["-g", "-O0"]), compiled, exec_config)
    assert outcome.compile is not None
    assert outcome.compile.stdout == "['-g', '-O0', 'main.py']\n"


def test_options_outside_the_allow_list_are_refused(python_runtime: Runtime) -> None:
    compiled = python_runtime.model_copy(update={"compile": ["cc", "{source}"], "compiler_options": ["-O0"]})
    refused = runtime_mismatch(job("x", compiler_options=["-O0", "-fplugin=/tmp/evil.so"]), compiled)
    assert refused is not None
    assert refused.field == "compiler_options.1"
    assert "-fplugin" in refused.message
    assert runtime_mismatch(job("x", compiler_options=["-O0"]), compiled) is None


def test_files_are_written_beside_the_source(python_runtime: Runtime, exec_config: ExecConfig) -> None:
    files = [
        {"path": "helper.py", "content": "def twice(n):\n    return 2 * n\n"},
        {
            "path": "data/blob.bin",
            "content": base64.b64encode(b"\x00\xff\x10").decode(),
            "encoding": "base64",
        },
    ]
    source = "import helper\nprint(helper.twice(21), open('data/blob.bin', 'rb').read())"
    outcome = execute_job(job(source, files=files), python_runtime, exec_config)
    assert outcome.run is not None
    assert outcome.run.stdout == "42 b'\\x00\\xff\\x10'\n"


def test_a_file_cannot_take_the_source_files_place(python_runtime: Runtime) -> None:
    refused = runtime_mismatch(job("x", files=[{"path": "main.py", "content": "evil"}]), python_runtime)
    assert refused is not None and refused.field == "files.0.path"


@pytest.mark.parametrize(
    "path", ["/etc/passwd", "../x", "a/../../x", ".bashrc", "a//b", "-rf", "a/./b", "a\\b", ""]
)
def test_unsafe_paths_are_refused(path: str) -> None:
    with pytest.raises(ValueError, match="files"):
        job("x", files=[{"path": path, "content": ""}])


def test_files_that_collide_are_refused() -> None:
    with pytest.raises(ValueError, match="inside another"):
        job("x", files=[{"path": "a", "content": ""}, {"path": "a/b", "content": ""}])
    with pytest.raises(ValueError, match="same path"):
        job("x", files=[{"path": "a", "content": ""}, {"path": "a", "content": ""}])


def test_stderr_into_stdout_keeps_the_order(python_runtime: Runtime, exec_config: ExecConfig) -> None:
    source = (
        "import sys\n"
        "for i in range(3):\n"
        "    print(i, flush=True)\n"
        "    print('e', i, file=sys.stderr, flush=True)"
    )
    merged = execute_job(job(source, redirect_stderr_to_stdout=True), python_runtime, exec_config)
    assert merged.run is not None
    assert merged.run.stdout == "0\ne 0\n1\ne 1\n2\ne 2\n"
    assert merged.run.stderr == ""
    apart = execute_job(job(source), python_runtime, exec_config)
    assert apart.run is not None and apart.run.stderr == "e 0\ne 1\ne 2\n"


def test_runs_repeat_each_test_and_stop_at_a_failure(
    python_runtime: Runtime, exec_config: ExecConfig
) -> None:
    # Each run appends to a file in the scratch directory, so the count shows how many runs there were.
    counting = "f = open('count', 'a+'); f.write('x'); f.seek(0); print(len(f.read()))"
    repeated = execute_job(job(counting, runs=3), python_runtime, exec_config)
    assert repeated.run is not None and repeated.run.stdout == "3\n"
    failing = counting + "\nraise SystemExit(1)"
    stopped = execute_job(job(failing, runs=3), python_runtime, exec_config)
    assert stopped.run is not None and stopped.run.stdout == "1\n"
    assert stopped.verdict is Verdict.RUNTIME_ERROR
    tests = [{"stdin": "", "expected_output": "3"}]
    judged = execute_job(job(counting, runs=3, tests=tests), python_runtime, exec_config)
    assert judged.verdict is Verdict.ACCEPTED


def test_output_that_is_not_utf8_keeps_its_bytes(python_runtime: Runtime, exec_config: ExecConfig) -> None:
    source = "import sys; sys.stdout.buffer.write(b'ok \\xff\\xfe'); sys.stderr.write('fine')"
    outcome = execute_job(job(source), python_runtime, exec_config)
    assert outcome.run is not None
    assert outcome.run.stdout_b64 is not None
    assert base64.b64decode(outcome.run.stdout_b64) == b"ok \xff\xfe"
    assert outcome.run.stdout == "ok \ufffd\ufffd"
    assert outcome.run.stderr_b64 is None  # UTF-8 output stays text only


def test_stack_and_process_limits_reach_the_program(python_runtime: Runtime, exec_config: ExecConfig) -> None:
    source = "import resource as r; print(r.getrlimit(r.RLIMIT_STACK)[0], r.getrlimit(r.RLIMIT_NPROC)[0])"
    limited = job(source, limits={"stack_kb": 2048, "processes": 200})
    outcome = execute_job(limited, python_runtime, exec_config)
    assert outcome.run is not None
    assert outcome.run.stdout == f"{2048 * 1024} 200\n"
    assert run_limits(limited.limits, python_runtime).processes == 200
