"""Warm sandboxes (``EXECUTIONER_SANDBOX=warm``): one long-lived bubblewrap sandbox per pool process,
reused from command to command and from job to job, instead of one ``bwrap`` per command.

The sandbox is bubblewrap with exactly the options of a per-command sandbox (worker/sandbox.py:
namespaces, read-only image, masked paths, the jobs' seccomp filter, uid 65534) and ``--as-pid-1``: its
pid 1 is our small init (worker/warm_init.py), which starts each command (through a small spawner, so
that its peak memory is its own) and, when it ends, kills every other process of the pid namespace.
What must be fresh for each job is made fresh:

* processes: none outlives its command (the init's ``kill(-1)``, which reaches all of the namespace);
* files: the sandbox's ``/tmp`` and ``/dev/shm`` are a bind of the slot directory, a *shared* mount of
  the pool process's private mount namespace, so a tmpfs the pool process mounts there for a job (and
  unmounts after it, as a whole) appears in the sandbox by mount propagation. Before a job the init
  reports what it sees there, and the job runs only if it is the new, empty file system;
* System V semaphores (the IPC namespace lives as long as the sandbox): removed by the init between
  jobs, and counted again; POSIX message queues cannot be created at all (the jobs' seccomp filter,
  worker/job_filter.py, refuses ``mq_open`` here);
* descriptors and environment: each command gets its three pipes and exactly the job's environment.

A sandbox whose reset does not check out, or whose init stops answering, is torn down and started
again; if that fails too, the job fails as ours (``InternalError``) and is retried.
"""

import contextlib
import ctypes
import dataclasses
import functools
import json
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from worker import gvisor, job_filter, warm_init
from worker.errors import InternalError
from worker.limits import ProcessLimits
from worker.process import ProcessResult, run_command
from worker.proctree import ProcessTree, ProcStat, read_stat
from worker.sandbox import (
    OOM_SCORE_ADJ,
    SANDBOX_WORKDIR,
    SandboxConfig,
    SandboxSpec,
    bwrap_options,
    present_masked_paths,
)

_LIBC = ctypes.CDLL(None, use_errno=True)
_MS_NOSUID = 0x2
_MS_NODEV = 0x4
_MS_BIND = 0x1000
_MS_SHARED = 1 << 20
_MNT_DETACH = 0x2
SCRATCH_PATHS = (str(SANDBOX_WORKDIR), "/dev/shm")
"""Where the job's scratch file system appears in the sandbox."""
ANSWER_TIMEOUT_S = 5.0
"""How long the init may take to answer once its command is over (it kills and reaps the rest)."""
_MESSAGE_BYTES = 1 << 20


def _check(result: int, what: str) -> None:
    if result != 0:
        errno = ctypes.get_errno()
        raise InternalError(f"{what}: {os.strerror(errno)}")


def init_command(python: str, control_fd: str) -> list[str]:
    """The command line of the sandbox's pid 1: :mod:`worker.warm_init` run by ``python``, given its end
    of the control socket and the OOM score every command inherits (bench/floor.py starts the same)."""
    source = Path(warm_init.__file__).read_text()
    return [python, "-I", "-S", "-c", source, control_fd, str(OOM_SCORE_ADJ)]


class SandboxLost(InternalError):
    """The init ended or stopped answering."""


class SandboxTree(ProcessTree):
    """Every process of the warm sandbox but its init (``leader``): all of them the running command's,
    since orphans are the init's, not the pool process's."""

    def __init__(self, init_pid: int) -> None:
        super().__init__(init_pid)
        self.release()  # the init outlives its commands: it is no command's leader
        self.members = set()

    def _belongs(self, stat: ProcStat) -> bool:
        return stat.ppid == self.leader or stat.ppid in self.members

    def _kill_group(self) -> None:
        """Nothing: the init is not the command's, and each command has a session of its own."""


class WarmCommand:
    """One command of a warm sandbox (see :class:`worker.process.Command`)."""

    def __init__(self, sandbox: "WarmSandbox", stdin_fd: int, stdout_fd: int, stderr_fd: int) -> None:
        self.sandbox = sandbox
        self.stdin_fd, self.stdout_fd, self.stderr_fd = stdin_fd, stdout_fd, stderr_fd
        self.exit_fd = sandbox.control.fileno()
        self.tree: ProcessTree = SandboxTree(sandbox.init_pid)
        self.collected = False

    def collect(self) -> tuple[int, float, int]:
        """The init's account of the command, once it has killed and reaped all of it. An init that
        ended or went silent while the command ran took the command with it: on gVisor a command can
        kill or stop its pid 1 (Linux protects it), which is the command's doing, reported as a kill by
        SIGKILL, as a sandbox per command reports its own pid 1's death; the sandbox is replaced."""
        self.collected = True
        try:
            answer = self.sandbox.answer()
        except SandboxLost:
            self.sandbox.close()  # the namespace dies with bwrap: nothing of the command lingers
            return signal.SIGKILL, 0.0, 0
        return int(answer["status"]), float(answer["cpu_s"]), int(answer["peak_kb"])

    def close(self) -> None:
        """Kill what is left and take the init's answer, unless collected; close our pipe ends."""
        try:
            if not self.collected:
                self.collected = True
                self.tree.kill()
                self.sandbox.answer()
        finally:
            for fd in (self.stdout_fd, self.stderr_fd):
                with contextlib.suppress(OSError):
                    os.close(fd)


class WarmSandbox:
    """The warm sandbox of one pool process (which must be in its private mounts, worker/scratch.py)."""

    def __init__(self, config: SandboxConfig, scratch_root: Path) -> None:
        self.config = config
        self.slot = scratch_root / "warm-slot"
        self.bwrap: subprocess.Popen[bytes] | None = None
        self.control = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.init_pid = 0
        self.broken = True
        """Not started yet, or no longer to be trusted: started afresh before the next job."""

    def _share_slot(self) -> None:
        if self.slot.exists():
            return
        self.slot.mkdir(mode=0o700)
        path = os.fsencode(self.slot)
        _check(_LIBC.mount(path, path, None, _MS_BIND, None), "bind the warm slot")
        _check(_LIBC.mount(None, path, None, _MS_SHARED, None), "share the warm slot")

    def start(self) -> None:
        """Start the sandbox and its init (stopping the previous one first)."""
        self.close()
        self._share_slot()
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        seccomp_fd = job_filter.filter_fd(_job_filter(self.config.gvisor))
        errors = os.memfd_create("warm-sandbox-errors", os.MFD_CLOEXEC)
        dirs, files = present_masked_paths()
        spec = SandboxSpec(
            self.slot, 0, -1, dirs, files, seccomp_fd, not self.config.gvisor, self.config.gvisor
        )
        python = os.path.realpath(sys.executable)  # the system interpreter: no path of ours in its name
        argv = [*bwrap_options(spec), "--as-pid-1", "--", *init_command(python, str(theirs.fileno()))]
        try:
            self.bwrap = subprocess.Popen(
                argv,
                env={"PATH": "/usr/bin:/bin"},
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=errors,
                pass_fds=(theirs.fileno(), seccomp_fd),
                start_new_session=True,
            )
        except OSError as exc:
            raise InternalError(f"cannot start the warm sandbox: {exc}") from exc
        finally:
            theirs.close()
            os.close(seccomp_fd)
        self.control = ours
        try:
            self.answer()  # ready
            self.init_pid = self._init_outer_pid(self.bwrap.pid)
        except InternalError as exc:
            raise InternalError(f"{exc}: {os.pread(errors, 4096, 0).decode(errors='replace')}") from exc
        finally:
            os.close(errors)
        self.broken = False

    @staticmethod
    def _init_outer_pid(bwrap_pid: int) -> int:
        """The init as this process sees it: ``bwrap``'s only child."""
        for name in os.listdir("/proc"):
            stat = read_stat(int(name)) if name.isdigit() else None
            if stat is not None and stat.ppid == bwrap_pid:
                return stat.pid
        raise InternalError("the warm sandbox's init is not bwrap's child")

    def answer(self, timeout_s: float = ANSWER_TIMEOUT_S) -> dict[str, Any]:
        """The init's next answer; a silent, gone or failing init breaks the sandbox."""
        self.control.settimeout(timeout_s)
        try:
            message = self.control.recv(_MESSAGE_BYTES)
        except OSError as exc:
            self.broken = True
            raise SandboxLost(f"the warm sandbox's init did not answer: {exc}") from exc
        if not message:
            self.broken = True
            raise SandboxLost("the warm sandbox's init has ended")
        answer: dict[str, Any] = json.loads(message)
        if "error" in answer:
            self.broken = True
            raise InternalError(f"the warm sandbox's init failed: {answer['error']}")
        return answer

    def _reset(self, device: int) -> bool:
        """Clear what the last job may have left; whether the sandbox now sees ``device`` empty."""
        self.control.send(json.dumps({"op": "reset", "paths": SCRATCH_PATHS}).encode())
        seen = self.answer()
        devices, entries = seen["devices"], seen["entries"]
        fresh = all(devices[p] == device and entries[p] == [] for p in SCRATCH_PATHS)
        return fresh and seen["semaphores"] == 0

    @contextlib.contextmanager
    def job(self) -> Iterator[Path]:
        """A fresh scratch file system for one job, as the sandbox sees it; the path yielded is the pool
        process's view of it. Unmounted, contents and all, when the block ends."""
        self._share_slot()
        for _ in range(2):  # a sandbox that does not reset is replaced, once
            if self.broken:
                self.start()  # before the job's tmpfs: the sandbox must bind the bare, shared slot
            with self._scratch() as device:
                try:
                    fresh = self._reset(device)
                except (OSError, InternalError):
                    fresh = False
                if fresh:
                    yield self.slot
                    return
            self.broken = True
        raise InternalError("a fresh warm sandbox does not see the job's scratch space")

    @contextlib.contextmanager
    def _scratch(self) -> Iterator[int]:
        """The job's tmpfs on the slot (its device number), unmounted afterwards."""
        options = f"size={self.config.disk_bytes},nr_inodes={self.config.inodes},mode=0700"
        path = os.fsencode(self.slot)
        _check(_LIBC.mount(b"tmpfs", path, b"tmpfs", _MS_NOSUID | _MS_NODEV, options.encode()), "mount tmpfs")
        try:
            yield os.stat(self.slot).st_dev
        finally:
            # Lazy: a process of the job that is still dying cannot keep it mounted.
            if _LIBC.umount2(path, _MNT_DETACH) != 0:
                self.broken = True
                _check(-1, "unmount the job's tmpfs")

    def run(
        self,
        argv: Sequence[str],
        env: Mapping[str, str],
        stdin: bytes,
        limits: ProcessLimits,
        *,
        stderr_to_stdout: bool = False,
    ) -> ProcessResult:
        """Run one command of the job in the sandbox, under ``limits``; ``stderr_to_stdout``: its stderr
        is its stdout's pipe (see :func:`worker.process.run_process`)."""
        if self.config.gvisor:
            limits = dataclasses.replace(limits, processes=min(limits.processes, gvisor.JOB_PROCESSES))
        limits = dataclasses.replace(limits, watch_sandbox_memory=self.config.gvisor)
        pipes = [os.pipe() for _ in range(3)]
        theirs = [pipes[0][0], pipes[1][1], pipes[2][1]]
        # The same pipe as fd 1 and 2: the stderr pipe's write end is only closed, so it reads empty.
        sent = [theirs[0], theirs[1], theirs[1] if stderr_to_stdout else theirs[2]]
        request = {
            "op": "run",
            "argv": [*limits.exec_prefix(dies_with_parent=True), *warm_init.SPAWNER, *argv],
            "env": dict(env),
            "cwd": str(SANDBOX_WORKDIR),
        }
        try:
            socket.send_fds(self.control, [json.dumps(request).encode()], sent)
        except OSError as exc:
            self.broken = True
            for fd in (pipes[0][1], pipes[1][0], pipes[2][0]):
                os.close(fd)
            raise InternalError(f"the warm sandbox's init does not listen: {exc}") from exc
        finally:
            for fd in theirs:
                os.close(fd)
        command = WarmCommand(self, pipes[0][1], pipes[1][0], pipes[2][0])
        try:
            # Watched from when it is forked: the spawner's pages are not the command's memory. On a
            # loaded machine (gVisor most) starting it may take seconds: as long as the command may run.
            self.answer(max(ANSWER_TIMEOUT_S, limits.wall_ms / 1000))
        except InternalError:
            command.collected = True  # no second answer comes; the namespace dies with the sandbox
            command.close()
            os.close(command.stdin_fd)
            self.close()
            raise
        return run_command(command, stdin, limits)

    def close(self) -> None:
        """Stop the sandbox: its init, and with it the whole pid namespace, dies with ``bwrap``."""
        self.broken = True
        self.control.close()
        if self.bwrap is not None:
            with contextlib.suppress(ProcessLookupError):
                self.bwrap.kill()
            self.bwrap.wait()
            self.bwrap = None
            # The init, now ours (a pool process is a subreaper), dies with bwrap: reap it.
            with contextlib.suppress(ChildProcessError):
                os.waitpid(self.init_pid, 0)


@functools.cache
def _job_filter(on_gvisor: bool) -> bytes:
    return job_filter.job_filter(refuse_user_namespaces=on_gvisor, refuse_message_queues=True)
