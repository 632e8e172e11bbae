"""One job's whole process tree, read from ``/proc``: which processes belong to it, their resident memory
and CPU time, and killing all of them.

Why a watchdog. An address-space limit (RLIMIT_AS) cannot bound a JVM, Go or V8 program: they reserve
gigabytes of address space they never touch. What a program really uses is resident memory, so the worker
samples the RSS of every process of the job every few milliseconds, kills the whole tree at once when the
sum is over the limit, and reports the peak. There are no writable cgroups inside a worker container to
do it for us. CPU time is summed over the tree the same way: a command's own rusage misses processes it
does not reap itself (bubblewrap leaves its sandbox's init to us), and RLIMIT_CPU is per process.

A process belongs to the job when it is in the job's session, when its parent belongs to the job, or,
when this process is a child subreaper (a pool process, see :func:`become_subreaper`), when it is an
orphan this process adopted: so ``setsid`` plus a double fork does not escape either.
"""

import contextlib
import ctypes
import os
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass

PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
_LIBC = ctypes.CDLL(None, use_errno=True)
_PR_SET_CHILD_SUBREAPER = 36
_PR_GET_CHILD_SUBREAPER = 37
KILL_ROUNDS = 200
"""Rounds of "find every live process of the job, SIGKILL it" before giving up on a tree that forks
faster than it dies (RLIMIT_NPROC keeps that finite)."""
KILL_PAUSE_S = 0.001


def become_subreaper() -> None:
    """Make orphans of our descendants ours (PR_SET_CHILD_SUBREAPER) instead of PID 1's, so a job's
    double-forked processes stay visible, killable and reaped by us."""
    if _LIBC.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER) failed")


def is_subreaper() -> bool:
    """Whether orphans of our descendants are re-parented to us."""
    flag = ctypes.c_int(0)
    _LIBC.prctl(_PR_GET_CHILD_SUBREAPER, ctypes.byref(flag), 0, 0, 0)
    return flag.value != 0


def reap_adopted() -> tuple[float, int]:
    """Collect the exit status of adopted orphans that have died (a subreaper must, or they stay zombies).
    Call it only when no child of ours is waited for elsewhere.

    Returns their CPU seconds and largest peak RSS (KiB), which belong to the job. In a sandbox they are
    the only exact account of the program: the program is reaped by the sandbox's init, which outlives
    the ``bwrap`` we started and is adopted and reaped here."""
    reaped = reap_adopted_each()
    return sum(cpu_s for cpu_s, _ in reaped.values()), max((kb for _, kb in reaped.values()), default=0)


def reap_adopted_each() -> dict[int, tuple[float, int]]:
    """:func:`reap_adopted`, by process id: the CPU seconds and peak RSS (KiB) of each one reaped, for
    a caller that must tell two jobs' orphans apart (an interactive test's two sandboxes)."""
    reaped: dict[int, tuple[float, int]] = {}
    while True:
        try:
            pid, _, usage = os.wait4(-1, os.WNOHANG)
        except ChildProcessError:
            return reaped
        if pid == 0:
            return reaped
        reaped[pid] = (usage.ru_utime + usage.ru_stime, usage.ru_maxrss)


@dataclass(frozen=True, slots=True)
class ProcStat:
    """The fields of ``/proc/<pid>/stat`` the tree needs."""

    pid: int
    ppid: int
    session: int
    zombie: bool
    rss_kb: int
    cpu_ticks: int
    """CPU time of the process and of the children it has reaped (user + system), in clock ticks."""
    start_ticks: int = 0
    """When it started, in clock ticks since boot."""


def read_stat(pid: int) -> ProcStat | None:
    """One process's stat, or None when it is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as file:
            data = file.read()
    except OSError:
        return None
    # The command name is in parentheses and may contain anything, spaces and ')' included. The fields
    # after it start at field 3 (state): so fields[n - 3] is field n of proc(5).
    fields = data[data.rindex(b")") + 2 :].split()
    return ProcStat(
        pid=pid,
        ppid=int(fields[1]),
        session=int(fields[3]),
        zombie=fields[0] in (b"Z", b"X"),
        rss_kb=int(fields[21]) * PAGE_KB,
        cpu_ticks=sum(int(tick) for tick in fields[11:15]),  # utime, stime, cutime, cstime
        start_ticks=int(fields[19]),
    )


def _running_pids() -> set[int]:
    return {int(name) for name in os.listdir("/proc") if name.isdigit()}


_LEADERS: set[int] = set()
"""The leaders of the trees of this process that are not reaped yet. With two commands at once (an
interactive test), the other command is a child of ours that may have started after this tree's leader,
like an orphan of the job would; it is never this tree's."""


class ProcessTree:
    """The processes of one job, whose session ``leader`` leads (the command we started)."""

    def __init__(self, leader: int) -> None:
        self.leader = leader
        _LEADERS.add(leader)
        self.adopts_orphans = is_subreaper()
        self.members: set[int] = {leader}
        """Every process of the job found so far."""
        self._strangers: set[int] = set()
        """Processes already seen not to belong to the job (their pids are not read again)."""
        self._me = os.getpid()
        leader_stat = read_stat(leader)
        self._leader_start = leader_stat.start_ticks if leader_stat is not None else 0
        """An orphan of ours is the job's only if it started after the leader: a child we had before
        (a warm sandbox's ``bwrap``) is not."""

    def release(self) -> None:
        """The leader was reaped: its pid may be reused."""
        _LEADERS.discard(self.leader)

    def _belongs(self, stat: ProcStat) -> bool:
        orphan = (
            self.adopts_orphans
            and stat.ppid == self._me
            and stat.start_ticks >= self._leader_start
            and stat.pid not in _LEADERS
        )
        return stat.session == self.leader or stat.ppid in self.members or orphan

    def _kill_group(self) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            # The leader is not reaped yet, so its process group id cannot belong to anyone else.
            os.killpg(self.leader, signal.SIGKILL)

    def snapshot(self) -> list[ProcStat]:
        """Every process of the job now, zombies included. Only pids not seen before are classified; a
        process stays a member for its whole life (a later ``setsid`` does not take it out)."""
        running = _running_pids()
        self.members &= running
        self._strangers &= running  # a pid that vanished and came back is a new process
        fresh = [s for s in map(read_stat, sorted(running - self.members - self._strangers)) if s]
        stats = [s for s in map(read_stat, sorted(self.members)) if s]
        # Children can be listed before their parent; repeat until no new member turns up.
        while True:
            joined = [s for s in fresh if self._belongs(s)]
            if not joined:
                break
            self.members.update(s.pid for s in joined)
            stats.extend(joined)
            fresh = [s for s in fresh if s.pid not in self.members]
        self._strangers.update(s.pid for s in fresh)
        return stats

    def kill(self) -> None:
        """SIGKILL every process of the job, again and again until none is left alive."""
        self._kill_group()
        for _ in range(KILL_ROUNDS):
            alive = [stat for stat in self.snapshot() if not stat.zombie]
            if not alive:
                return
            for stat in alive:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(stat.pid, signal.SIGKILL)
            time.sleep(KILL_PAUSE_S)  # dying takes the kernel a moment; there is no event to wait for


class TreeWatch:
    """Samples the tree's resident memory and CPU time against the limits, remembering the peaks.

    A process's CPU time, once it is reaped, moves into its parent's: so the sum over the processes
    present (zombies included) counts every process once, as long as it was reaped inside the tree.
    """

    def __init__(
        self,
        tree: ProcessTree,
        *,
        memory_limit_kb: int,
        cpu_limit_ms: int,
        memory_low: Callable[[], bool] | None = None,
    ) -> None:
        self.tree = tree
        self.memory_limit_kb = memory_limit_kb
        self.cpu_limit_ms = cpu_limit_ms
        self.memory_low = memory_low
        """Whether the whole container runs out of memory (worker/gvisor.py); then the job is over its
        memory limit, whatever its own processes hold."""
        self.peak_kb = 0
        self.cpu_ms = 0
        self.memory_exceeded = False

    def _record(self, stats: list[ProcStat]) -> None:
        cpu_ms = sum(stat.cpu_ticks for stat in stats) * 1000 // CLOCK_TICKS
        self.cpu_ms = max(self.cpu_ms, cpu_ms)
        resident_kb = sum(stat.rss_kb for stat in stats if not stat.zombie)
        self.peak_kb = max(self.peak_kb, resident_kb)
        if resident_kb > self.memory_limit_kb or (self.memory_low is not None and self.memory_low()):
            self.memory_exceeded = True

    def sample(self) -> bool:
        """Take one sample; True when the tree is over a limit (the caller kills it)."""
        self._record(self.tree.snapshot())
        return self.memory_exceeded or self.cpu_ms > self.cpu_limit_ms

    def account(self) -> None:
        """The last reading, after the tree was killed and before its zombies are reaped: their CPU time
        is final then."""
        self._record(self.tree.snapshot())
