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
    assert compile_command(compiled, ["-O0"], 512) == ["cc", "-O2", "-o", "main", "-O0", "main.py", "-lm"]


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


def test_a_file_over_file_size_kb_ends_the_program(python_runtime: Runtime, exec_config: ExecConfig) -> None:
    # Python ignores SIGXFSZ (it raises OSError instead); a C program gets the default action.
    source = (
        "import signal; signal.signal(signal.SIGXFSZ, signal.SIG_DFL)\n"
        "with open('big', 'wb', buffering=0) as f:\n"
        "    for _ in range(64):\n"
        "        f.write(bytes(16 * 1024))\n"
        "print('wrote 1 MiB')"
    )
    limited = execute_job(job(source, limits={"file_size_kb": 512}), python_runtime, exec_config)
    assert limited.run is not None
    assert (limited.verdict, limited.run.signal) == (Verdict.OUTPUT_LIMIT_EXCEEDED, "SIGXFSZ")
    roomy = execute_job(job(source, limits={"file_size_kb": 2048}), python_runtime, exec_config)
    assert roomy.run is not None and roomy.run.stdout == "wrote 1 MiB\n"


def compiling(runtime: Runtime, compiler: str) -> Runtime:
    """``runtime`` with a "compiler" that is the Python program ``compiler``."""
    return runtime.model_copy(update={"compile": ["python3", "-c", compiler, "{source}"]})


def test_compile_limits_bound_the_compiler(python_runtime: Runtime, exec_config: ExecConfig) -> None:
    spinning = compiling(python_runtime, "while True: pass")
    tight = execute_job(job("print(1)", compile_limits={"time_ms": 300}), spinning, exec_config)
    assert tight.verdict is Verdict.COMPILATION_ERROR
    assert tight.compile is not None and tight.compile.verdict is Verdict.TIME_LIMIT_EXCEEDED
    assert tight.compile.time_ms < 3000  # the job's 300 ms (a second for RLIMIT_CPU), not the runtime's 10 s
    hungry = compiling(python_runtime, "x = bytearray(200 * 2**20); print(len(x))")
    small = execute_job(job("print(1)", compile_limits={"memory_mb": 64}), hungry, exec_config)
    assert small.compile is not None and small.compile.verdict is Verdict.MEMORY_LIMIT_EXCEEDED
    ample = execute_job(job("print(1)"), hungry, exec_config)
    assert ample.verdict is Verdict.ACCEPTED, ample


def test_compile_limits_above_the_runtimes_own_are_refused(python_runtime: Runtime) -> None:
    compiled = compiling(python_runtime, "pass")
    over = runtime_mismatch(job("x", compile_limits={"time_ms": compiled.compile_time_ms + 1}), compiled)
    assert over is not None and over.field == "compile_limits.time_ms"
    heavy = runtime_mismatch(job("x", compile_limits={"memory_mb": compiled.compile_memory_mb + 1}), compiled)
    assert heavy is not None and heavy.field == "compile_limits.memory_mb"
    assert runtime_mismatch(job("x", compile_limits={"time_ms": 100, "memory_mb": 64}), compiled) is None
    interpreted = runtime_mismatch(job("x", compile_limits={"time_ms": 100}), python_runtime)
    assert interpreted is not None and interpreted.field == "compile_limits"


def test_the_order_of_stdout_and_stderr_is_recorded(python_runtime: Runtime, exec_config: ExecConfig) -> None:
    # Each write waits until the worker has read the one before (the pipe holds no unread byte), so
    # the order the worker sees is the order written.
    source = (
        "import array, fcntl, sys, termios, time\n"
        "def drained(stream):\n"
        "    stream.flush()\n"
        "    unread = array.array('i', [1])\n"
        "    while unread[0]:\n"
        "        fcntl.ioctl(stream.fileno(), termios.FIONREAD, unread)\n"
        "        time.sleep(0.001)\n"
        "for i in range(3):\n"
        "    sys.stdout.write(f'o{i} '); drained(sys.stdout)\n"
        "    sys.stderr.write(f'e{i} '); drained(sys.stderr)\n"
    )
    outcome = execute_job(job(source), python_runtime, exec_config)
    assert outcome.run is not None
    assert outcome.run.interleaving == [(1, 3), (2, 3)] * 3
    assert outcome.run.combined_output() == b"o0 e0 o1 e1 o2 e2 "
    quiet = execute_job(job("print('only stdout')"), python_runtime, exec_config)
    assert quiet.run is not None and quiet.run.interleaving is None
    assert quiet.run.combined_output() == b"only stdout\n"


def test_input_that_is_not_utf8_reaches_the_program_as_its_bytes(
    python_runtime: Runtime, exec_config: ExecConfig
) -> None:
    raw = b"caf\xe9\n"
    b64 = base64.b64encode(raw).decode()
    echo = "import sys; sys.stdout.buffer.write(sys.stdin.buffer.read())"
    outcome = execute_job(job(echo, stdin_b64=b64), python_runtime, exec_config)
    assert outcome.run is not None and outcome.run.stdout_b64 == b64
    # Latin-1 source: Python reads it under its coding declaration, so the bytes must arrive as sent.
    source = b"# -*- coding: latin-1 -*-\nprint(len('\xe9\xe9'))\n"
    latin1 = execute_job(job("", source_b64=base64.b64encode(source).decode()), python_runtime, exec_config)
    assert latin1.run is not None and latin1.run.stdout == "2\n"
    tests = [
        {"stdin_b64": b64, "expected_output_b64": b64},
        {"stdin_b64": b64, "expected_output": "caf\ufffd"},
    ]
    judged = execute_job(job(echo, tests=tests), python_runtime, exec_config)
    assert [t.verdict for t in judged.tests] == [Verdict.ACCEPTED, Verdict.WRONG_ANSWER]


def test_a_multi_file_program_runs_its_compile_and_run_scripts(
    python_runtime: Runtime, exec_config: ExecConfig
) -> None:
    compiled = python_runtime.model_copy(update={"compile": ["false"], "compiler_options": ["-O2"]})
    compile_script = [
        {"path": "compile", "content": "echo compiling \"$@\"; printf 'print(6 * 7)\\n' > built.py\n"}
    ]
    run_script = 'echo args "$@"; python3 built.py\n'
    scripts = job(run_script, run_scripts=True, files=compile_script, args=["a b"], compiler_options=["-O2"])
    outcome = execute_job(scripts, compiled, exec_config)
    assert outcome.compile is not None and outcome.compile.stdout == "compiling -O2\n"
    assert outcome.run is not None and outcome.run.stdout == "args a b\n42\n", outcome
    only_run = execute_job(job(run_script, run_scripts=True), compiled, exec_config)
    assert only_run.compile is None and only_run.run is not None
    assert only_run.verdict is Verdict.RUNTIME_ERROR  # no compile script made built.py
    clash = runtime_mismatch(
        job(run_script, run_scripts=True, files=[{"path": "run", "content": ""}]), compiled
    )
    assert clash is not None and clash.field == "files.0.path"
