"""The process runner, with real subprocesses on this host."""

import os
import select
import time
from pathlib import Path

import pytest

from schemas.verdicts import Verdict
from worker.errors import InternalError
from worker.judge import run_verdict
from worker.limits import MIB, ProcessLimits
from worker.process import ProcessResult, run_process

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


def test_memory_limit(tmp_path: Path) -> None:
    result = python("block = bytearray(600 * 1024 * 1024)", tmp_path)
    assert not result.ended_normally
    assert b"MemoryError" in result.stderr
    assert run_verdict(result, LIMITS) is Verdict.MEMORY_LIMIT_EXCEEDED


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
