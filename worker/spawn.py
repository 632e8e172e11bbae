"""Start one command as a plain subprocess of the pool process, under the rlimits of its
:class:`~worker.limits.ProcessLimits` (a ``prlimit`` wrapper), in its own session: a
:class:`worker.process.Command` for the execution loop. (bubblewrap per command is such a subprocess
too: ``bwrap`` is the command.)"""

import contextlib
import os
import resource
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

from worker.errors import InternalError
from worker.limits import ProcessLimits
from worker.proctree import ProcessTree, reap_adopted


def _trusted_maxrss_kb(ru_maxrss: int, inherited_kb: int) -> int:
    """The child's own ``ru_maxrss`` when it means the program. A forked child starts with the peak of the
    pool process it was forked from, so a value not above that peak says nothing about the program."""
    return ru_maxrss if ru_maxrss > inherited_kb else 0


def _executable(command: str, cwd: Path, path: str) -> bool:
    """Whether ``exec`` finds ``command`` as the child will see it: a path relative to ``cwd``, or a name
    looked up in ``path``."""
    if os.sep in command:
        return os.access(cwd / command, os.X_OK) and not (cwd / command).is_dir()
    return shutil.which(command, path=path) is not None


class SpawnedCommand:
    """A subprocess of ours (see :class:`worker.process.Command`)."""

    def __init__(self, proc: subprocess.Popen[bytes], stdin_fd: int, stdout_fd: int, stderr_fd: int) -> None:
        self.proc = proc
        self.stdin_fd, self.stdout_fd, self.stderr_fd = stdin_fd, stdout_fd, stderr_fd
        self.exit_fd = os.pidfd_open(proc.pid)
        self.tree = ProcessTree(proc.pid)
        self.inherited_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    def collect(self) -> tuple[int, float, int]:
        """Reap it, and the orphans of it we adopted (a pool process is a subreaper)."""
        status, cpu_s, peak_kb = self.collect_own()
        adopted_cpu_s, adopted_peak_kb = reap_adopted() if self.tree.adopts_orphans else (0.0, 0)
        return status, cpu_s + adopted_cpu_s, max(peak_kb, adopted_peak_kb)

    def collect_own(self) -> tuple[int, float, int]:
        """Reap only the process we started, not adopted orphans (another command of ours running at
        the same time, an interactor, would lose its own): wait status, CPU seconds, peak KiB."""
        _, status, usage = os.wait4(self.proc.pid, 0)
        self.tree.release()
        self.proc.returncode = os.waitstatus_to_exitcode(status)  # so Popen never tries to reap it again
        peak_kb = _trusted_maxrss_kb(usage.ru_maxrss, self.inherited_kb)
        return status, usage.ru_utime + usage.ru_stime, peak_kb

    def close(self) -> None:
        """Kill and reap it if it was not collected; close the pidfd and our ends of its outputs."""
        if self.proc.returncode is None:  # the run failed half-way: still kill and reap it
            self.tree.kill()
            self.proc.wait()
            self.tree.release()
        for fd in (self.exit_fd, self.stdout_fd, self.stderr_fd):
            with contextlib.suppress(OSError):
                os.close(fd)


def spawn(
    argv: Sequence[str],
    cwd: Path,
    env: Mapping[str, str],
    limits: ProcessLimits,
    *,
    pass_fds: Sequence[int],
    dies_with_parent: bool,
    stderr_to_stdout: bool = False,
) -> SpawnedCommand:
    """Start ``argv`` (see :func:`worker.process.run_process`). Raises :class:`InternalError` when it
    cannot be started at all."""
    # The limits wrapper execs the command; checked here, a missing one stays our error, not an exit
    # status the program could have returned itself.
    if not _executable(argv[0], cwd, env.get("PATH", os.defpath)):
        raise InternalError(f"cannot start {argv[0]!r}: not found or not executable")
    pipes = [os.pipe() for _ in range(3)]
    theirs = (pipes[0][0], pipes[1][1], pipes[2][1])
    ours = (pipes[0][1], pipes[1][0], pipes[2][0])
    try:
        proc = subprocess.Popen(
            [*limits.exec_prefix(dies_with_parent=dies_with_parent), *argv],
            cwd=cwd,
            env=dict(env),
            stdin=theirs[0],
            stdout=theirs[1],
            stderr=theirs[1] if stderr_to_stdout else theirs[2],  # unused, the stderr pipe just ends
            start_new_session=True,
            close_fds=True,
            pass_fds=tuple(pass_fds),
        )
    except (OSError, subprocess.SubprocessError) as exc:
        for fd in ours:
            os.close(fd)
        raise InternalError(f"cannot start {argv[0]!r}: {exc}") from exc
    finally:
        for fd in theirs:
            os.close(fd)
    return SpawnedCommand(proc, *ours)
