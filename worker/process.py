"""Run one command under limits: its own session (killed as a whole at the end), stdin fed while it runs,
stdout and stderr captured up to a cap, CPU time from the child's rusage, peak memory from rusage or
samples of its ``VmHWM``.

This runs in a pool process, synchronously: one selector loop over the pipes and a pidfd, no threads.
"""

import contextlib
import os
import resource
import selectors
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from worker.errors import InternalError
from worker.limits import ProcessLimits

CHUNK = 64 * 1024
# After the program ended (or was killed), how long to wait for its pipes to reach EOF. Only a process
# that escaped the session can keep them open past the kill.
DRAIN_S = 0.5
SAMPLE_S = 0.02
"""How often the child's peak memory (VmHWM) is sampled while it runs."""


@dataclass(frozen=True, slots=True)
class ProcessResult:
    """What happened to one execution."""

    exit_code: int | None
    """Exit status; None when a signal ended it."""
    signal: str | None
    """Name of the signal that ended it, e.g. ``SIGKILL``."""
    cpu_ms: int
    wall_ms: int
    peak_rss_kb: int
    stdout: bytes
    stderr: bytes
    stdout_truncated: bool
    stderr_truncated: bool
    wall_exceeded: bool
    """We killed it at the wall-clock limit."""

    @property
    def output_exceeded(self) -> bool:
        """It wrote more than the output limit to stdout or stderr (and, for a program, was killed for it)."""
        return self.stdout_truncated or self.stderr_truncated

    @property
    def ended_normally(self) -> bool:
        """Exit status 0, no signal."""
        return self.exit_code == 0 and self.signal is None


class _Capture:
    """Bytes of one output stream, capped at ``limit``."""

    def __init__(self, limit: int) -> None:
        self.data = bytearray()
        self.limit = limit
        self.truncated = False

    def feed(self, chunk: bytes) -> None:
        room = self.limit - len(self.data)
        if len(chunk) > room:
            self.data += chunk[: max(room, 0)]
            self.truncated = True
        else:
            self.data += chunk


class _PeakMemory:
    """Peak resident memory of the program itself.

    The child's ``ru_maxrss`` also counts the memory of the (forked) pool process it started as, so it is
    only trusted when it exceeds the pool process's own peak; otherwise the peak comes from ``VmHWM``
    samples of the exec'ed program, taken while it runs.
    """

    def __init__(self, pid: int) -> None:
        self.status_path = f"/proc/{pid}/status"
        self.inherited_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        self.sampled_kb = 0

    def sample(self) -> None:
        try:
            with open(self.status_path, "rb") as status:
                for line in status:
                    if line.startswith(b"VmHWM:"):
                        self.sampled_kb = max(self.sampled_kb, int(line.split()[1]))
                        return
        except (OSError, ValueError):
            return  # it is exiting; the last sample stands

    def peak_kb(self, ru_maxrss: int) -> int:
        return ru_maxrss if ru_maxrss > self.inherited_kb else self.sampled_kb


def signal_name(number: int) -> str:
    """``SIGKILL`` for 9; ``SIG<n>`` for numbers Python has no name for."""
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"SIG{number}"


def _spawn(
    argv: Sequence[str], cwd: Path, env: Mapping[str, str], limits: ProcessLimits
) -> subprocess.Popen[bytes]:
    try:
        return subprocess.Popen(
            list(argv),
            cwd=cwd,
            env=dict(env),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
            close_fds=True,
            # The pool process is single-threaded, so a preexec_fn is safe here.
            preexec_fn=limits.apply_in_child,  # noqa: PLW1509
        )
    except (OSError, subprocess.SubprocessError) as exc:
        raise InternalError(f"cannot start {argv[0]!r}: {exc}") from exc


class _Execution:
    """The selector loop of one running process."""

    def __init__(self, proc: subprocess.Popen[bytes], stdin: bytes, limits: ProcessLimits) -> None:
        assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
        self.proc = proc
        self.limits = limits
        self.started = time.monotonic()
        self.deadline = self.started + limits.wall_ms / 1000
        self.stdout = _Capture(limits.output_bytes)
        self.stderr = _Capture(limits.output_bytes)
        self.captures = {proc.stdout.fileno(): self.stdout, proc.stderr.fileno(): self.stderr}
        self.stdin_fd = proc.stdin.fileno()
        self.pending = memoryview(stdin)
        self.pidfd = os.pidfd_open(proc.pid)
        self.memory = _PeakMemory(proc.pid)
        self.selector = selectors.DefaultSelector()
        self.ended: float | None = None
        self.killed_at: float | None = None
        self.wall_exceeded = False

    def run(self) -> None:
        """Feed stdin and read the outputs until the process ended and its pipes closed (or a limit hit)."""
        for fd in (*self.captures, self.stdin_fd):
            os.set_blocking(fd, False)
        for fd in (*self.captures, self.pidfd):
            self.selector.register(fd, selectors.EVENT_READ)
        if self.pending:
            self.selector.register(self.stdin_fd, selectors.EVENT_WRITE)
        else:
            self._close_stdin()
        while self.ended is None or any(fd in self.selector.get_map() for fd in self.captures):
            now = time.monotonic()
            if self.killed_at is None and now >= self.deadline:
                self.wall_exceeded = True
                self.ended = now
                self._kill()
            if self.killed_at is not None and now >= self.killed_at + DRAIN_S:
                break  # only a process that left the session can still hold the pipes
            if self.ended is None:
                self.memory.sample()
            limit_at = self.deadline if self.killed_at is None else self.killed_at + DRAIN_S
            for key, _ in self.selector.select(min(max(limit_at - now, 0), SAMPLE_S)):
                if key.fd == self.pidfd:
                    self._on_exit()
                elif key.fd == self.stdin_fd:
                    self._on_stdin_writable()
                else:
                    self._on_output(key.fd)
        self._kill()  # whatever is left of the session goes with the program

    def _kill(self) -> None:
        if self.killed_at is None:
            self.killed_at = time.monotonic()
        # The child leads its own session and process group and is not reaped yet, so its pgid cannot
        # have been reused by an unrelated process.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)

    def _on_exit(self) -> None:
        self.ended = self.ended or time.monotonic()
        self.selector.unregister(self.pidfd)
        if self.stdin_fd in self.selector.get_map():
            self.selector.unregister(self.stdin_fd)
        self._kill()

    def _on_stdin_writable(self) -> None:
        try:
            written = os.write(self.stdin_fd, self.pending[:CHUNK])
        except BrokenPipeError:
            written = len(self.pending)  # the program closed its stdin: that is its business
        self.pending = self.pending[written:]
        if not self.pending:
            self.selector.unregister(self.stdin_fd)
            self._close_stdin()

    def _on_output(self, fd: int) -> None:
        chunk = os.read(fd, CHUNK)
        if not chunk:
            self.selector.unregister(fd)
            return
        capture = self.captures[fd]
        capture.feed(chunk)
        if capture.truncated and self.killed_at is None and self.limits.kill_on_output_limit:
            self.ended = time.monotonic()
            self._kill()

    def _close_stdin(self) -> None:
        assert self.proc.stdin is not None
        with contextlib.suppress(OSError):
            self.proc.stdin.close()

    def reap(self) -> ProcessResult:
        """Wait for the (killed or exited) child and describe how it went."""
        _, status, usage = os.wait4(self.proc.pid, 0)
        self.proc.returncode = os.waitstatus_to_exitcode(status)  # so Popen never tries to reap it again
        ended = self.ended or time.monotonic()
        signalled = os.WIFSIGNALED(status)
        return ProcessResult(
            exit_code=None if signalled else os.WEXITSTATUS(status),
            signal=signal_name(os.WTERMSIG(status)) if signalled else None,
            cpu_ms=round((usage.ru_utime + usage.ru_stime) * 1000),
            wall_ms=round((ended - self.started) * 1000),
            peak_rss_kb=self.memory.peak_kb(usage.ru_maxrss),
            stdout=bytes(self.stdout.data),
            stderr=bytes(self.stderr.data),
            stdout_truncated=self.stdout.truncated,
            stderr_truncated=self.stderr.truncated,
            wall_exceeded=self.wall_exceeded,
        )

    def close(self) -> None:
        """Release the selector, the pidfd and our ends of the pipes; never leave the child behind."""
        if self.proc.returncode is None:  # run() failed half-way: still kill and reap it
            self._kill()
            self.proc.wait()
        self.selector.close()
        os.close(self.pidfd)
        for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()


def run_process(
    argv: Sequence[str], *, cwd: Path, env: Mapping[str, str], stdin: bytes, limits: ProcessLimits
) -> ProcessResult:
    """Run ``argv`` in ``cwd`` with exactly ``env``, feed it ``stdin``, and wait until it ends or a limit
    ends it. Raises :class:`InternalError` when the command cannot be started at all."""
    execution = _Execution(_spawn(argv, cwd, env, limits), stdin, limits)
    try:
        execution.run()
        return execution.reap()
    finally:
        execution.close()
