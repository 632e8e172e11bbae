"""Keeping ``make up``'s processes running: when the API, the master, or the Kafka or MariaDB that ``up``
started exits, it is restarted after a back-off, and the console says which process ended, how, and when
it comes back. Only Ctrl-C, SIGTERM or ``make down`` (which sends SIGTERM) stop the stack.

The restart policy is :func:`plan_restart`, a pure function of the process's crashes in a row and how
long it last ran; the delays are tenacity's exponential back-off.
"""

import os
import select
import signal
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import tenacity

from devstack import processes
from devstack.console import DevstackError, say

STABLE_UPTIME_S = 60.0
"""A process that ran this long before it exited starts its back-off afresh."""
RESTART_BACKOFF = tenacity.wait_exponential(multiplier=1, min=1, max=30)
"""1 s after a first crash, then 2, 4, 8, 16 and at most 30 s between restarts."""
LOG_LINES = 15


@dataclass(frozen=True, slots=True)
class Restart:
    """When to start a process again that has just exited."""

    crashes: int
    """Exits in a row without a stable run in between, this one included."""
    delay_s: float


def plan_restart(previous_crashes: int, uptime_s: float) -> Restart:
    """The restart of a process that exited after ``uptime_s`` seconds, having crashed
    ``previous_crashes`` times in a row before: the back-off grows with each crash in a row and starts
    again once a process ran for :data:`STABLE_UPTIME_S`."""
    crashes = 1 if uptime_s >= STABLE_UPTIME_S else previous_crashes + 1
    attempt = tenacity.RetryCallState(tenacity.Retrying(), None, (), {})
    attempt.attempt_number = crashes
    return Restart(crashes, RESTART_BACKOFF(attempt))


def describe_exit(code: int) -> str:
    """``exit code 3``, or ``killed by SIGKILL (exit code -9)``."""
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        return f"killed by {name} (exit code {code})"
    return f"exit code {code}"


@dataclass
class _Watched:
    pid: int
    log: Path
    started: float
    pidfd: int
    crashes: int = 0


Starter = Callable[[], int]
"""Starts a process again and returns its pid (raises :class:`DevstackError` when it cannot)."""


class Supervisor:
    """Watches the processes it is given (our own children) and restarts each that exits."""

    def __init__(
        self,
        running: Mapping[str, tuple[int, Path]],
        starters: Mapping[str, Starter],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._starters = starters
        self._clock = clock
        self._watched: dict[str, _Watched] = {}
        self._logs = {name: log for name, (_pid, log) in running.items()}
        self._due: dict[str, tuple[float, int]] = {}
        """Processes waiting for their restart: when, and their crashes in a row."""
        for name, (pid, log) in running.items():
            self._watch(name, pid, log, crashes=0)

    def run(self) -> None:
        """Supervise until interrupted (KeyboardInterrupt, which our SIGINT/SIGTERM handlers raise)."""
        try:
            while True:
                self._wait_and_handle()
        finally:
            for watched in self._watched.values():
                os.close(watched.pidfd)

    def _wait_and_handle(self) -> None:
        now = self._clock()
        timeout = max(0.0, min(at for at, _ in self._due.values()) - now) if self._due else None
        by_fd = {w.pidfd: name for name, w in self._watched.items()}
        # A pidfd becomes readable when its process exits: no polling, and Ctrl-C interrupts the wait.
        ready, _, _ = select.select(list(by_fd), [], [], timeout)
        for fd in ready:
            self._exited(by_fd[fd])
        now = self._clock()
        for name in [n for n, (at, _) in self._due.items() if at <= now]:
            self._restart(name)

    def _exited(self, name: str) -> None:
        watched = self._watched.pop(name)
        os.close(watched.pidfd)
        code = processes.exit_code(watched.pid)
        uptime = self._clock() - watched.started
        how = describe_exit(code) if code is not None else "exit code unknown"
        tail = processes.log_tail(watched.log, lines=LOG_LINES)
        say(f"{name} (pid {watched.pid}) exited after {uptime:.1f} s, {how}; end of {watched.log}:\n{tail}")
        self._schedule(name, plan_restart(watched.crashes, uptime))

    def _schedule(self, name: str, restart: Restart) -> None:
        at = datetime.now() + timedelta(seconds=restart.delay_s)
        say(
            f"{name}: restarting in {restart.delay_s:.0f} s, at {at:%H:%M:%S} "
            f"(exit {restart.crashes} in a row; Ctrl-C stops everything)"
        )
        self._due[name] = (self._clock() + restart.delay_s, restart.crashes)

    def _restart(self, name: str) -> None:
        _, crashes = self._due.pop(name)
        try:
            pid = self._starters[name]()
        except DevstackError as exc:
            say(f"{name}: restart failed: {exc}")
            self._schedule(name, plan_restart(crashes, 0.0))
            return
        say(f"{name}: restarted, pid {pid}")
        self._watch(name, pid, self._logs[name], crashes=crashes)

    def _watch(self, name: str, pid: int, log: Path, *, crashes: int) -> None:
        try:
            pidfd = os.pidfd_open(pid)
        except ProcessLookupError:
            # Gone already (and a zombie of ours would still have a pid): treat as an immediate exit.
            self._schedule(name, plan_restart(crashes, 0.0))
            return
        self._watched[name] = _Watched(pid, log, self._clock() - processes.age_s(pid), pidfd, crashes)
