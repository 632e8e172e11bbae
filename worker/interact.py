"""Interactive tests: the submission and the interactor run at once, each in a sandbox and a scratch space
of its own, joined through this process: what the submission writes to stdout is relayed to the
interactor's stdin, and back. Relaying (rather than one pipe between the two sandboxes) is what bounds
the transcript, tells whose turn it was when both stopped, and keeps either side from blocking the other
for good (a bounded backlog, then the wall-clock limits). One selector loop, no threads.

Called testlib-style, ``interactor input.txt output.txt answer.txt`` (``output.txt`` a file it may write,
ignored); its exit code decides the verdict as a checker's does, unless the submission failed first.
"""

import contextlib
import dataclasses
import math
import os
import selectors
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from schemas.verdicts import Verdict
from worker.judge import checker_verdict, interaction_verdict, run_verdict
from worker.judge_programs import JudgePrograms, PreparedProgram, judge_message
from worker.limits import ProcessLimits, run_limits
from worker.process import CHUNK, DRAIN_S, Execution, ProcessResult
from worker.proctree import reap_adopted_each
from worker.sandbox import Confined
from worker.sandboxed import started
from worker.spawn import SpawnedCommand
from worker.test_data import TestData

MIB = 1024 * 1024
TRANSCRIPT_BYTES = 16 * MIB
"""The most either side may send the other in one test: beyond it the submission's verdict is
``output_limit_exceeded``, the interactor's failure ``internal_error``."""
BACKLOG_BYTES = MIB
"""Bytes waiting for a side that does not read, after which its peer is no longer read either."""
GRACE_S = 1.0
"""How long the submission may still run once the interactor has ended (it decided the test)."""
INTERACTOR_FILES = ("input.txt", "output.txt", "answer.txt")


@dataclass(eq=False)
class _Side:
    """One of the two commands and the bytes on their way to its stdin."""

    execution: Execution
    command: SpawnedCommand
    confined: Confined
    inbox: bytearray = field(default_factory=bytearray)
    sent: int = 0
    stdin_open: bool = True
    writing: bool = False
    paused: bool = False
    over_transcript: bool = False
    cut_short: bool = False
    """Killed only because the interactor had already ended (not a failure of its own)."""
    peer: "_Side" = field(init=False)


@dataclass(frozen=True, slots=True)
class Interaction:
    """How an interactive test went."""

    program: ProcessResult
    verdict: Verdict
    message: str


class _Relay:
    """The selector loop over both sides."""

    def __init__(self, program: _Side, interactor: _Side) -> None:
        self.program, self.interactor = program, interactor
        program.peer, interactor.peer = interactor, program
        self.sides = (program, interactor)
        self.selector = selectors.DefaultSelector()
        self.last_speaker: _Side | None = None
        self.interactor_stuck = False
        self.interactor_closed_at: float | None = None
        """When the interactor's stdout reached EOF (it exited or closed it): the program's stdin closes
        then, so a program that fails on that EOF failed after the interactor, whichever exit the relay
        happens to see first."""

    def run(self) -> None:
        for side in self.sides:
            command = side.command
            for fd in (command.stdin_fd, command.stdout_fd, command.stderr_fd):
                os.set_blocking(fd, False)
            self.selector.register(command.stdout_fd, selectors.EVENT_READ, (side, self._on_stdout))
            self.selector.register(command.stderr_fd, selectors.EVENT_READ, (side, self._on_stderr))
            self.selector.register(command.exit_fd, selectors.EVENT_READ, (side, self._on_exit))
        while not all(self._done(side) for side in self.sides):
            now = time.monotonic()
            for side in self.sides:
                self._watch(side, now)
            wake = min(self._next_check(side) for side in self.sides)
            for key, _ in self.selector.select(max(wake - now, 0)):
                if self.selector.get_map().get(key.fd) is not key:
                    continue  # an earlier event of this batch closed it (a program's stdin): stale
                side, handle = key.data
                handle(side)

    def _registered(self, fd: int) -> bool:
        return fd in self.selector.get_map()

    def _done(self, side: _Side) -> bool:
        outputs = (side.command.stdout_fd, side.command.stderr_fd)
        return side.execution.ended is not None and not any(map(self._registered, outputs))

    def _next_check(self, side: _Side) -> float:
        execution = side.execution
        if execution.killed_at is not None:
            return execution.killed_at + DRAIN_S
        return min(execution.deadline, execution.next_sample)

    def _watch(self, side: _Side, now: float) -> None:
        execution = side.execution
        if execution.killed_at is None and now >= execution.deadline:
            if side is self.program and self.interactor.execution.ended is not None:
                side.cut_short = True
            else:
                execution.wall_exceeded = True
                if side is self.program and self._interactors_turn():
                    self.interactor_stuck = True  # decided: the interactor need not be waited for
                    self.interactor.execution.ended = now
                    self.interactor.execution.kill()
            execution.ended = now
            execution.kill()
        if execution.killed_at is not None and now >= execution.killed_at + DRAIN_S:
            for fd in (side.command.stdout_fd, side.command.stderr_fd):
                if self._registered(fd):
                    self.selector.unregister(fd)  # only an escaped process can still hold them
        if execution.ended is None and now >= execution.next_sample:
            execution.sample_usage(now)

    def _interactors_turn(self) -> bool:
        """The program spoke last and the interactor took all of it, yet said nothing back."""
        interactor = self.interactor
        return (
            self.last_speaker is self.program and interactor.execution.ended is None and not interactor.inbox
        )

    def _on_exit(self, side: _Side) -> None:
        execution = side.execution
        execution.ended = execution.ended or time.monotonic()
        self.selector.unregister(side.command.exit_fd)
        self._close_stdin(side)
        execution.kill()  # what is left of its processes goes with it
        if side is self.interactor and self.program.execution.ended is None:
            self.program.execution.deadline = min(self.program.execution.deadline, time.monotonic() + GRACE_S)

    def _on_stderr(self, side: _Side) -> None:
        chunk = os.read(side.command.stderr_fd, CHUNK)
        if chunk:
            side.execution.stderr.feed(chunk)
        else:
            self.selector.unregister(side.command.stderr_fd)

    def _on_stdout(self, side: _Side) -> None:
        peer = side.peer
        chunk = os.read(side.command.stdout_fd, CHUNK)
        if not chunk:
            self.selector.unregister(side.command.stdout_fd)
            if side is self.interactor and self.interactor_closed_at is None:
                self.interactor_closed_at = time.monotonic()
            if not peer.inbox:
                self._close_stdin(peer)  # EOF for the peer once it has everything
            return
        side.execution.stdout.feed(chunk)
        side.sent += len(chunk)
        self.last_speaker = side
        if side.sent > TRANSCRIPT_BYTES:
            side.over_transcript = True
            side.execution.ended = time.monotonic()
            side.execution.kill()
            return
        if not peer.stdin_open:
            return  # the peer is gone or closed its stdin: what it would have read is dropped
        peer.inbox += chunk
        if not peer.writing:
            peer.writing = True
            self.selector.register(peer.command.stdin_fd, selectors.EVENT_WRITE, (peer, self._on_stdin))
        if len(peer.inbox) > BACKLOG_BYTES:
            side.paused = True
            self.selector.unregister(side.command.stdout_fd)

    def _on_stdin(self, side: _Side) -> None:
        try:
            written = os.write(side.command.stdin_fd, side.inbox[:CHUNK])
        except BrokenPipeError:
            written = len(side.inbox)  # it closed its stdin: that is its business
        del side.inbox[:written]
        if side.inbox:
            return
        self._stop_writing(side)
        peer = side.peer
        if peer.paused:
            self._resume(peer)
        elif not self._registered(peer.command.stdout_fd):
            self._close_stdin(side)  # the peer's stdout ended and all of it was delivered

    def _stop_writing(self, side: _Side) -> None:
        if side.writing:
            side.writing = False
            self.selector.unregister(side.command.stdin_fd)

    def _close_stdin(self, side: _Side) -> None:
        self._stop_writing(side)
        side.inbox.clear()
        if side.stdin_open:
            side.stdin_open = False
            with contextlib.suppress(OSError):
                os.close(side.command.stdin_fd)
        self._resume(side.peer)  # what it writes now is dropped: it must not block on us

    def _resume(self, side: _Side) -> None:
        if side.paused:
            side.paused = False
            self.selector.register(side.command.stdout_fd, selectors.EVENT_READ, (side, self._on_stdout))

    def results(self) -> tuple[ProcessResult, ProcessResult]:
        """Reap both (each its own process first: reaping orphans must not take the other's), then the
        orphans, each counted for the side whose process tree it was in."""
        own = []
        for side in self.sides:
            side.execution.usage.account()
            own.append(side.command.collect_own())
        adopted = reap_adopted_each()
        results = []
        for side, (status, cpu_s, peak_kb) in zip(self.sides, own, strict=True):
            mine = [adopted.pop(pid) for pid in list(adopted) if pid in side.execution.tree.members]
            total_cpu_s = cpu_s + sum(cpu for cpu, _ in mine)
            peak = max([peak_kb, *(kb for _, kb in mine)])
            results.append(side.confined.result(side.execution.result(status, total_cpu_s, peak)))
        return results[0], results[1]


@contextlib.contextmanager
def _side(
    judges: JudgePrograms, argv: list[str], workdir: Path, env: dict[str, str], limits: ProcessLimits
) -> Iterator[_Side]:
    with started(judges.sandbox, argv, workdir, env, limits) as (command, confined):
        side = _Side(Execution(command, b"", confined.limits), command, confined)
        try:
            yield side
        finally:  # never leave it behind: killed and reaped unless collected, descriptors closed
            side.execution.selector.close()
            if side.stdin_open:
                os.close(command.stdin_fd)
            command.close()


@dataclass(frozen=True, slots=True)
class ProgramCommand:
    """How the submission runs: its command, its (compiled) scratch directory, environment, limits."""

    argv: list[str]
    workdir: Path
    env: dict[str, str]
    limits: ProcessLimits


def interact(
    judges: JudgePrograms, interactor: PreparedProgram, program: ProgramCommand, data: TestData
) -> Interaction:
    """Run the submission against ``interactor`` on one test."""
    # Its wall time outlasts the program's: a program that hangs is the program's time limit.
    own = run_limits(interactor.limits, interactor.runtime)
    limits = dataclasses.replace(own, wall_ms=max(own.wall_ms, program.limits.wall_ms + 1000))
    program_limits = dataclasses.replace(program.limits, kill_on_output_limit=False)
    files = dict(zip(INTERACTOR_FILES, (data.input, b"", data.answer), strict=True))
    with contextlib.ExitStack() as stack:
        workdir = stack.enter_context(judges.workspace(interactor, files))
        argv, env = interactor.argv(list(INTERACTOR_FILES)), judges.env(interactor, workdir)
        other = stack.enter_context(_side(judges, argv, workdir, env, limits))
        ours = stack.enter_context(_side(judges, program.argv, program.workdir, program.env, program_limits))
        relay = _Relay(ours, other)
        with contextlib.closing(relay.selector):
            relay.run()
            ran, judged = relay.results()
    return _verdict(relay, ran, judged, program_limits, limits)


def _verdict(
    relay: _Relay,
    ran: ProcessResult,
    judged: ProcessResult,
    program: ProcessLimits,
    interactor: ProcessLimits,
) -> Interaction:
    message = judge_message("interactor", judged, interactor.cpu_ms)
    if relay.interactor_stuck:
        said = "the interactor did not answer the program's last message within the program's wall time"
        return Interaction(ran, Verdict.INTERNAL_ERROR, f"{said}. {message}".strip())
    own = Verdict.ACCEPTED if relay.program.cut_short else run_verdict(ran, program)
    if relay.program.over_transcript:
        own = Verdict.OUTPUT_LIMIT_EXCEEDED
    decided = checker_verdict(judged, interactor)
    if relay.interactor.over_transcript:
        decided = Verdict.INTERNAL_ERROR
    ended = relay.program.execution.ended or 0.0
    interactor_ends = [relay.interactor.execution.ended, relay.interactor_closed_at]
    interactor_ended = min((t for t in interactor_ends if t is not None), default=math.inf)
    first = ended <= interactor_ended
    return Interaction(ran, interaction_verdict(own, first, decided), message)
