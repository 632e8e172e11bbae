"""Run one command under limits: its own session, stdin fed while it runs, stdout and stderr captured up
to a cap, and the resident memory and CPU time of its whole process tree watched (:mod:`worker.proctree`).
When it ends, or a limit ends it, every process it started is killed with it.

This runs in a pool process, synchronously: one selector loop over the pipes and the command's end (a
pidfd, or a warm sandbox's answer), no threads.
"""

import contextlib
import os
import selectors
import signal
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from worker import gvisor
from worker.limits import ProcessLimits
from worker.proctree import ProcessTree, TreeWatch
from worker.spawn import spawn

CHUNK = 64 * 1024
# After the program ended (or was killed), how long to wait for its pipes to reach EOF. Only a process
# that escaped the job's process tree can keep them open past the kill.
DRAIN_S = 0.5
SAMPLE_S = 0.005
"""How often the process tree's resident memory and CPU time are sampled while it runs."""


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
    memory_exceeded: bool = False
    """We killed it because its process tree's resident memory went over the limit."""
    interleaving: tuple[tuple[int, int], ...] = ()
    """How the captured stdout (1) and stderr (2) bytes alternated as they were read: ``(stream,
    bytes)`` runs in order (see :class:`_Interleaving`)."""

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


MAX_RUNS_KEPT = 1000
"""Alternations of stdout and stderr recorded per execution: enough for a program's interleaved
messages, bounded for one that alternates every byte."""


class _Interleaving:
    """The order in which captured output arrived: runs of ``(stream, bytes)``, a run per change of
    stream. Beyond :data:`MAX_RUNS_KEPT` runs nothing more is recorded: the rest of each stream is
    known only as a whole. Chunks that became readable in the same ``select`` round are ordered as the
    selector lists them (the program's own order between them is not known; Piston reads the same way)."""

    def __init__(self) -> None:
        self.runs: list[list[int]] = []

    def add(self, stream: int, size: int) -> None:
        if size <= 0:
            return
        if self.runs and self.runs[-1][0] == stream:
            self.runs[-1][1] += size
        elif len(self.runs) < MAX_RUNS_KEPT:
            self.runs.append([stream, size])

    def result(self) -> tuple[tuple[int, int], ...]:
        return tuple((stream, size) for stream, size in self.runs)


def signal_name(number: int) -> str:
    """``SIGKILL`` for 9; ``SIG<n>`` for numbers Python has no name for."""
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"SIG{number}"


class Command(Protocol):
    """A started command, as :func:`run_command` drives it: a plain subprocess (worker/spawn.py) or a
    command of a warm sandbox (worker/warm.py). Its descriptors belong to it."""

    stdin_fd: int
    stdout_fd: int
    stderr_fd: int
    exit_fd: int
    """Readable once the command's main process has ended."""
    tree: ProcessTree
    """Every process of the command, watched and killed by the loop."""

    def collect(self) -> tuple[int, float, int]:
        """After its end (or the kill): its wait status, and the CPU seconds and peak resident KiB of
        everything of it that was reaped."""
        ...

    def close(self) -> None:
        """Kill and reap whatever was not collected; release the descriptors (the loop closes
        ``stdin_fd`` itself, when it has fed everything)."""
        ...


class Execution:
    """One running command: its limits, captured outputs and usage, and the selector loop that drives it
    alone (worker/interact.py drives two at once)."""

    def __init__(self, command: Command, stdin: bytes, limits: ProcessLimits) -> None:
        self.command = command
        self.limits = limits
        self.started = time.monotonic()
        self.deadline = self.started + limits.wall_ms / 1000
        self.stdout = _Capture(limits.output_bytes)
        self.stderr = _Capture(limits.output_bytes)
        self.captures = {command.stdout_fd: self.stdout, command.stderr_fd: self.stderr}
        self.streams = {command.stdout_fd: 1, command.stderr_fd: 2}
        self.interleaving = _Interleaving()
        self.stdin_fd = command.stdin_fd
        self.stdin_open = True
        self.pending = memoryview(stdin)
        self.exit_fd = command.exit_fd
        self.tree = command.tree
        self.usage = TreeWatch(
            self.tree,
            memory_limit_kb=limits.memory_limit_kb,
            cpu_limit_ms=limits.cpu_ms,
            memory_low=gvisor.sandbox_memory_low if limits.watch_sandbox_memory else None,
        )
        self.next_sample = self.started
        self.selector = selectors.DefaultSelector()
        self.ended: float | None = None
        self.killed_at: float | None = None
        self.wall_exceeded = False

    def run(self) -> None:
        """Feed stdin and read the outputs until the process ended and its pipes closed (or a limit hit)."""
        for fd in (*self.captures, self.stdin_fd):
            os.set_blocking(fd, False)
        for fd in (*self.captures, self.exit_fd):
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
                self.kill()
            if self.killed_at is not None and now >= self.killed_at + DRAIN_S:
                break  # only a process that escaped the tree can still hold the pipes
            if self.ended is None and now >= self.next_sample:
                self.sample_usage(now)
            limit_at = self.deadline if self.killed_at is None else self.killed_at + DRAIN_S
            if self.ended is None:
                limit_at = min(limit_at, self.next_sample)
            for key, _ in self.selector.select(max(limit_at - now, 0)):
                if key.fd == self.exit_fd:
                    self._on_exit()
                elif key.fd == self.stdin_fd:
                    self._on_stdin_writable()
                else:
                    self._on_output(key.fd)
        self.kill()  # whatever is left of the job's processes goes with the program

    def _on_exit(self) -> None:
        self.ended = self.ended or time.monotonic()
        self.selector.unregister(self.exit_fd)
        if self.stdin_fd in self.selector.get_map():
            self.selector.unregister(self.stdin_fd)
        self.kill()

    def _on_stdin_writable(self) -> None:
        if self.stdin_fd not in self.selector.get_map():
            return  # the program's exit came first in the same round and let its stdin go
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
        before = len(capture.data)
        capture.feed(chunk)
        self.interleaving.add(self.streams[fd], len(capture.data) - before)
        if capture.truncated and self.killed_at is None and self.limits.kill_on_output_limit:
            self.ended = time.monotonic()
            self.kill()

    def _close_stdin(self) -> None:
        if self.stdin_open:
            self.stdin_open = False
            with contextlib.suppress(OSError):
                os.close(self.stdin_fd)

    def sample_usage(self, now: float) -> None:
        """Sample the tree's memory and CPU time; kill it when over a limit."""
        self.next_sample = now + SAMPLE_S
        if self.usage.sample():
            self.ended = now
            self.kill()

    def kill(self) -> None:
        """Kill every process of the command (once it was killed, again: a no-op for a dead tree)."""
        if self.killed_at is None:
            self.killed_at = time.monotonic()
        self.tree.kill()

    def reap(self) -> ProcessResult:
        """Wait for the (killed or exited) child and describe how it went."""
        self.usage.account()
        return self.result(*self.command.collect())

    def result(self, status: int, cpu_s: float, peak_kb: int) -> ProcessResult:
        """How it went, given what reaping it told: wait status, CPU seconds, peak KiB."""
        ended = self.ended or time.monotonic()
        signalled = os.WIFSIGNALED(status)
        return ProcessResult(
            exit_code=None if signalled else os.WEXITSTATUS(status),
            signal=signal_name(os.WTERMSIG(status)) if signalled else None,
            cpu_ms=max(round(cpu_s * 1000), self.usage.cpu_ms),
            wall_ms=round((ended - self.started) * 1000),
            peak_rss_kb=max(self.usage.peak_kb, peak_kb),
            stdout=bytes(self.stdout.data),
            stderr=bytes(self.stderr.data),
            stdout_truncated=self.stdout.truncated,
            stderr_truncated=self.stderr.truncated,
            wall_exceeded=self.wall_exceeded,
            memory_exceeded=self.usage.memory_exceeded,
            interleaving=self.interleaving.result(),
        )

    def close(self) -> None:
        """Release the selector and the command; never leave the child behind."""
        self.selector.close()
        self._close_stdin()
        self.command.close()


def run_command(command: Command, stdin: bytes, limits: ProcessLimits) -> ProcessResult:
    """Feed ``command`` its ``stdin`` and wait until it ends or a limit ends it (every process of it is
    killed then), capturing its outputs."""
    execution = Execution(command, stdin, limits)
    try:
        execution.run()
        return execution.reap()
    finally:
        execution.close()


def run_process(
    argv: Sequence[str],
    *,
    cwd: Path,
    env: Mapping[str, str],
    stdin: bytes,
    limits: ProcessLimits,
    pass_fds: Sequence[int] = (),
    dies_with_parent: bool = False,
    stderr_to_stdout: bool = False,
) -> ProcessResult:
    """Run ``argv`` in ``cwd`` with exactly ``env``, feed it ``stdin``, and wait until it ends or a limit
    ends it; ``pass_fds`` stay open in the child (the sandbox writes its status to one);
    ``dies_with_parent``: ``argv`` sees to it itself that it dies with us; ``stderr_to_stdout``: its
    stderr is its stdout's pipe, so the two interleave as written. Raises :class:`InternalError` when
    the command cannot be started at all."""
    spawned = spawn(
        argv,
        cwd,
        env,
        limits,
        pass_fds=pass_fds,
        dies_with_parent=dies_with_parent,
        stderr_to_stdout=stderr_to_stdout,
    )
    return run_command(spawned, stdin, limits)
