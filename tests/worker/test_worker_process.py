"""The process runner, with real subprocesses on this host."""

import dataclasses
import os
import resource
import select
import time
from pathlib import Path

import pytest

from schemas.verdicts import Verdict
from worker.errors import InternalError
from worker.judge import run_verdict
from worker.limits import MIB, ProcessLimits
from worker.process import ProcessResult, run_process

pytestmark = pytest.mark.unit

ENV = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8"}
LIMITS = ProcessLimits(cpu_ms=1000, wall_ms=5000, memory_bytes=256 * MIB, output_bytes=64 * 1024)


def python(code: str, tmp_path: Path, *, stdin: bytes = b"", limits: ProcessLimits = LIMITS) -> ProcessResult:
    return run_process(["python3", "-I", "-c", code], cwd=tmp_path, env=ENV, stdin=stdin, limits=limits)


def test_stdin_is_delivered_and_stdout_captured(tmp_path: Path) -> None:
    result = python("import sys; sys.stdout.write(sys.stdin.read().upper())", tmp_path, stdin=b"hello\n")
    assert result.ended_normally
    assert result.stdout == b"HELLO\n"
    assert result.stderr == b""
    assert result.cpu_ms > 0
    assert 0 < result.peak_rss_kb < 100 * 1024
    assert run_verdict(result, LIMITS) is Verdict.ACCEPTED


def test_large_stdin_is_streamed_both_ways(tmp_path: Path) -> None:
    data = os.urandom(512 * 1024).hex().encode()  # 1 MiB: far more than a pipe buffer
    limits = ProcessLimits(cpu_ms=5000, wall_ms=10_000, memory_bytes=256 * MIB, output_bytes=len(data))
    result = python("import sys; sys.stdout.write(sys.stdin.read())", tmp_path, stdin=data, limits=limits)
    assert result.stdout == data
    assert not result.stdout_truncated


def test_a_program_that_ignores_its_stdin_does_not_block(tmp_path: Path) -> None:
    result = python("print('done')", tmp_path, stdin=b"x" * (1024 * 1024))
    assert result.ended_normally
    assert result.stdout == b"done\n"


def test_exit_code_and_stderr(tmp_path: Path) -> None:
    result = python("import sys; print('oops', file=sys.stderr); sys.exit(3)", tmp_path)
    assert (result.exit_code, result.signal) == (3, None)
    assert result.stderr == b"oops\n"
    assert run_verdict(result, LIMITS) is Verdict.RUNTIME_ERROR


def test_a_signal_is_reported_by_name(tmp_path: Path) -> None:
    result = python("import os, signal; os.kill(os.getpid(), signal.SIGSEGV)", tmp_path)
    assert (result.exit_code, result.signal) == (None, "SIGSEGV")
    assert run_verdict(result, LIMITS) is Verdict.RUNTIME_ERROR


def test_cpu_limit(tmp_path: Path) -> None:
    limits = ProcessLimits(cpu_ms=500, wall_ms=10_000, memory_bytes=256 * MIB, output_bytes=1024)
    result = python("while True: pass", tmp_path, limits=limits)
    assert result.signal in {"SIGXCPU", "SIGKILL"}
    assert not result.wall_exceeded
    assert result.cpu_ms >= 500
    assert run_verdict(result, limits) is Verdict.TIME_LIMIT_EXCEEDED


def test_wall_limit(tmp_path: Path) -> None:
    limits = ProcessLimits(cpu_ms=1000, wall_ms=300, memory_bytes=256 * MIB, output_bytes=1024)
    started = time.monotonic()
    result = python("import time; time.sleep(30)", tmp_path, limits=limits)
    assert time.monotonic() - started < 5
    assert result.wall_exceeded
    assert result.signal == "SIGKILL"
    assert 300 <= result.wall_ms < 2000
    assert run_verdict(result, limits) is Verdict.TIME_LIMIT_EXCEEDED


def test_endless_output_is_cut_at_the_limit_and_stops_the_program(tmp_path: Path) -> None:
    limits = ProcessLimits(cpu_ms=5000, wall_ms=15_000, memory_bytes=256 * MIB, output_bytes=64 * 1024)
    result = python("while True: print('spam' * 100)", tmp_path, limits=limits)
    assert result.stdout_truncated
    assert len(result.stdout) == 64 * 1024  # never more than the limit is kept
    assert result.stdout.startswith(b"spamspam")
    assert not result.wall_exceeded  # it was stopped for its output, long before the time limit
    assert run_verdict(result, limits) is Verdict.OUTPUT_LIMIT_EXCEEDED


def test_output_exactly_at_the_limit_is_not_truncated(tmp_path: Path) -> None:
    limits = ProcessLimits(cpu_ms=1000, wall_ms=5000, memory_bytes=256 * MIB, output_bytes=1000)
    result = python("import sys; sys.stdout.write('x' * 1000)", tmp_path, limits=limits)
    assert not result.stdout_truncated
    assert run_verdict(result, limits) is Verdict.ACCEPTED


TOUCH_600_MIB = "block = bytearray(600 * 1024 * 1024)\nfor i in range(0, len(block), 4096): block[i] = 1"


def test_the_watchdog_kills_a_program_over_the_memory_limit(tmp_path: Path) -> None:
    result = python(TOUCH_600_MIB, tmp_path)
    assert result.memory_exceeded
    assert result.signal == "SIGKILL"
    assert 256 * 1024 < result.peak_rss_kb < 400 * 1024  # killed soon after it crossed the limit
    assert run_verdict(result, LIMITS) is Verdict.MEMORY_LIMIT_EXCEEDED


def test_an_address_space_limit_fails_the_allocation_inside_the_program(tmp_path: Path) -> None:
    limits = dataclasses.replace(LIMITS, address_space_bytes=LIMITS.memory_bytes)
    result = python(TOUCH_600_MIB, tmp_path, limits=limits)
    assert not result.memory_exceeded  # it never got the memory
    assert b"MemoryError" in result.stderr
    assert run_verdict(result, limits) is Verdict.MEMORY_LIMIT_EXCEEDED


def test_memory_is_summed_over_the_whole_process_tree(tmp_path: Path) -> None:
    # Three processes of 100 MiB each: every one is under the limit, together they are not.
    code = (
        "import subprocess, sys\n"
        "child = 'b = bytearray(100 << 20)\\nfor i in range(0, len(b), 4096): b[i] = 1\\ninput()'\n"
        "procs = [subprocess.Popen([sys.executable, '-c', child], stdin=subprocess.PIPE) for _ in range(3)]\n"
        "for p in procs: p.wait()\n"
    )
    result = python(code, tmp_path)
    assert result.memory_exceeded
    assert run_verdict(result, LIMITS) is Verdict.MEMORY_LIMIT_EXCEEDED


def test_cpu_time_is_summed_over_the_whole_process_tree(tmp_path: Path) -> None:
    # Two processes burning 0.7 s each: under RLIMIT_CPU (per process), over the job's 1 s together.
    code = (
        "import subprocess, sys\n"
        "burn = 'import time\\nend = time.process_time() + 0.7\\nwhile time.process_time() < end: pass'\n"
        "procs = [subprocess.Popen([sys.executable, '-c', burn]) for _ in range(2)]\n"
        "for p in procs: p.wait()\n"
    )
    result = python(code, tmp_path)
    assert result.cpu_ms > LIMITS.cpu_ms
    assert run_verdict(result, LIMITS) is Verdict.TIME_LIMIT_EXCEEDED


def test_cpu_time_counts_processes_the_command_never_reaps(tmp_path: Path) -> None:
    # The child burns CPU and exits; the parent exits without waiting for it (as bubblewrap does with its
    # sandbox's init), so the parent's rusage never includes the child. The samples of the tree do.
    code = (
        "import os, time\n"
        "if os.fork() == 0:\n"
        "    end = time.process_time() + 0.4\n"
        "    while time.process_time() < end: pass\n"
        "    os._exit(0)\n"
        "while os.waitid(os.P_ALL, 0, os.WEXITED | os.WNOWAIT) is None: pass\n"
        "os._exit(0)\n"
    )
    result = python(code, tmp_path)
    assert result.ended_normally
    assert result.cpu_ms >= 350


def test_peak_memory_is_the_programs_own(tmp_path: Path) -> None:
    code = "block = bytearray(120 * 1024 * 1024)\nfor i in range(0, len(block), 4096): block[i] = 1"
    result = python(code, tmp_path)
    assert result.ended_normally
    assert result.peak_rss_kb >= 120 * 1024


def test_processes_left_behind_are_killed(tmp_path: Path) -> None:
    code = "import subprocess; print(subprocess.Popen(['sleep', '60']).pid)"
    result = python(code, tmp_path)
    assert result.ended_normally
    try:
        pidfd = os.pidfd_open(int(result.stdout))
    except ProcessLookupError:
        return  # already gone and reaped
    try:
        # SIGKILL was sent; the fd becomes readable once the process has died.
        readable, _, _ = select.select([pidfd], [], [], 5)
        assert readable
    finally:
        os.close(pidfd)


def test_a_missing_command_is_our_error(tmp_path: Path) -> None:
    with pytest.raises(InternalError, match="cannot start"):
        run_process(["no-such-interpreter"], cwd=tmp_path, env=ENV, stdin=b"", limits=LIMITS)


def test_the_limits_reach_the_program_and_unlimited_is_spelled_for_prlimit(tmp_path: Path) -> None:
    limits = dataclasses.replace(LIMITS, open_files=37, processes=resource.RLIM_INFINITY)
    nproc = next(arg for arg in limits.exec_prefix(dies_with_parent=False) if arg.startswith("--nproc="))
    hard = resource.getrlimit(resource.RLIMIT_NPROC)[1]
    spelled = "unlimited" if hard == resource.RLIM_INFINITY else str(hard)
    assert nproc == f"--nproc={spelled}:{spelled}"  # the inherited limit, spelled for prlimit (never -1)

    script = "import resource as r; print(r.getrlimit(r.RLIMIT_NOFILE), r.getrlimit(r.RLIMIT_CORE))"
    result = run_process(["python3", "-c", script], cwd=tmp_path, env=ENV, stdin=b"", limits=limits)
    assert result.ended_normally, result.stderr
    assert result.stdout.decode() == "(37, 37) (0, 0)\n"
