"""Each job's sandbox: every command the worker runs for a job (the compiler and the program) runs inside
bubblewrap (``bwrap``), configured here.

Inside the sandbox a command has:

* its own user namespace, as uid 65534 without capabilities, unable to create further user namespaces
  (``--disable-userns``; on gVisor the seccomp filter below), so no other namespace or mount either;
* a seccomp filter (worker/job_filter.py) refusing memory no limit of the job would count: memfds and
  System V shared memory and message queues;
* its own pid namespace: it sees only its own processes, and when the command ends bubblewrap's init
  (pid 1) exits and the kernel kills everything left, double-forked daemons included;
* its own network namespace with only a loopback interface (on gVisor: its pool process's, the same
  thing), and its own IPC, UTS and cgroup namespaces;
* a read-only view of the image, a fresh ``/proc`` of its pid namespace, a minimal read-only ``/dev``,
  and the kernel and hardware details Docker hides (:data:`MASKED_PATHS`) hidden again;
* one writable place: the job's scratch file system (:mod:`worker.scratch`, size- and inode-limited),
  mounted at ``/tmp`` (its working directory, ``HOME`` and ``TMPDIR``) and at ``/dev/shm``;
* RLIMIT_NPROC set inside its user namespace, where the kernel counts it per namespace: a fork bomb
  exhausts its own budget, not the worker's nor another job's;
* ``oom_score_adj`` 1000: if the container runs out of memory anyway, the kernel prefers a job to the
  worker (a job may lower it again, down to the worker's own value, which is why the filter exists).

The environment is exactly the job's (the worker passes nothing else to ``bwrap``).
"""

import contextlib
import dataclasses
import functools
import json
import os
import resource
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from worker import gvisor, job_filter
from worker.errors import InternalError
from worker.limits import ProcessLimits
from worker.process import ProcessResult, signal_name

MIB = 1024 * 1024
SANDBOX_UID = 65534
"""``nobody``: the user id of every sandboxed process, inside its user namespace."""
SANDBOX_HOSTNAME = "sandbox"
SANDBOX_WORKDIR = Path("/tmp")
"""Where the job's scratch directory appears inside the sandbox."""
OOM_SCORE_ADJ = 1000
_SIGNAL_EXIT_BASE = 128
"""bubblewrap reports a command killed by signal N as exit status 128 + N, as shells do."""
MASKED_PATHS = (
    "/proc/acpi",
    "/proc/asound",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/sched_debug",
    "/proc/scsi",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/sys/devices/virtual/powercap",
    "/sys/firmware",
)
"""Kernel and hardware details Docker hides in a container by default. The worker container shows them
(``systempaths=unconfined`` lets the sandbox mount its own ``/proc``), so every sandbox hides them again."""

# Runs as the sandbox's first process, as the job's user, before the command replaces it. ``ulimit -p``
# is dash's RLIMIT_NPROC (soft and hard). ``cd`` happens here, not in bwrap, so a job that locked itself
# out of its own scratch directory gets its own runtime error instead of failing our setup; the shell's
# PWD goes again, the environment stays exactly the job's.
_PRELUDE = " && ".join(
    (
        f"echo {OOM_SCORE_ADJ} > /proc/self/oom_score_adj",
        'ulimit -p "$1"',
        'cd "$2"',
        "unset PWD OLDPWD",
        "shift 2",
        'exec "$@"',
    )
)


@dataclass(frozen=True, slots=True)
class SandboxConfig:
    """How a worker isolates jobs (picklable: it travels to the pool processes)."""

    kind: Literal["bwrap", "warm", "none"] = "none"
    """``bwrap``: every command in its own sandbox. ``warm``: one long-lived sandbox per pool process,
    reset between jobs (worker/warm.py). ``none``: plain processes with rlimits (for tests and
    development on a host; no isolation at all)."""
    disk_bytes: int = 64 * MIB
    """Size of each job's scratch file system."""
    inodes: int = 16_384
    """Files and directories each job may create."""
    gvisor: bool = False
    """The kernel is gVisor's: sandboxes are set up as worker/gvisor.py explains."""

    @property
    def isolates(self) -> bool:
        """Whether jobs run in a sandbox."""
        return self.kind != "none"

    def workdir_for(self, scratch: Path) -> Path:
        """The job's working directory as its commands see it."""
        return SANDBOX_WORKDIR if self.isolates else scratch


NO_SANDBOX = SandboxConfig()


@dataclass(frozen=True, slots=True)
class SandboxSpec:
    """One command's sandbox."""

    scratch: Path
    """The job's scratch directory, as the worker sees it."""
    processes: int
    """RLIMIT_NPROC inside the sandbox: processes and threads."""
    status_fd: int
    """bubblewrap writes its JSON status lines here; ``exit-code`` means the command ran and ended."""
    masked_dirs: tuple[str, ...] = ()
    """Directories replaced by an empty read-only one."""
    masked_files: tuple[str, ...] = ()
    """Files replaced by ``/dev/null``."""
    seccomp_fd: int | None = None
    """The jobs' seccomp program (worker/job_filter.py)."""
    disable_userns: bool = True
    """Refuse nested user namespaces with ``--disable-userns`` (gVisor lacks its sysctl: there the
    seccomp program refuses them)."""
    share_net: bool = False
    """Stay in the caller's network namespace (gVisor: the pool process's own, with only loopback)."""


def bwrap_argv(spec: SandboxSpec, argv: Sequence[str]) -> list[str]:
    """The ``bwrap`` command line that runs ``argv`` in ``spec``'s sandbox (pure)."""
    return [
        *bwrap_options(spec),
        "--json-status-fd", str(spec.status_fd),
        "--",
        "/bin/sh", "-c", _PRELUDE, "sandbox", str(spec.processes), str(SANDBOX_WORKDIR),
        *argv,
    ]  # fmt: skip


def bwrap_options(spec: SandboxSpec) -> list[str]:
    """``bwrap`` and its options for ``spec``'s sandbox, up to the command (pure): one definition of the
    sandbox for both modes (worker/warm.py adds its own init)."""
    scratch = str(spec.scratch)
    masks = [arg for path in spec.masked_dirs for arg in ("--tmpfs", path, "--remount-ro", path)]
    masks += [arg for path in spec.masked_files for arg in ("--ro-bind", "/dev/null", path)]
    return [
        "bwrap",
        # Namespaces: user, pid, network, IPC, UTS, cgroup; no nested user namespaces.
        "--unshare-all",
        *(["--share-net"] if spec.share_net else []),
        "--unshare-user",
        *(["--disable-userns"] if spec.disable_userns else []),
        *(["--seccomp", str(spec.seccomp_fd)] if spec.seccomp_fd is not None else []),
        "--uid", str(SANDBOX_UID),
        "--gid", str(SANDBOX_UID),
        "--hostname", SANDBOX_HOSTNAME,
        "--cap-drop", "ALL",  # a no-op unless the worker runs as root; then it matters
        # Lifetime: killed with its bwrap parent; no controlling terminal to inject keystrokes into.
        "--die-with-parent",
        "--new-session",
        # File systems.
        "--ro-bind", "/", "/",
        "--proc", "/proc",
        "--dev", "/dev",
        *masks,
        "--bind", scratch, str(SANDBOX_WORKDIR),
        "--bind", scratch, "/dev/shm",
        "--remount-ro", "/dev",
        "--chdir", "/",
    ]  # fmt: skip


def exit_code_from_status(status: bytes) -> int | None:
    """The command's exit status from bubblewrap's JSON status lines; None when the command never ran
    (bubblewrap failed to set the sandbox up, or was killed before the command ended)."""
    for line in status.splitlines():
        with contextlib.suppress(ValueError):
            document = json.loads(line)
            if isinstance(document, dict) and isinstance(document.get("exit-code"), int):
                return int(document["exit-code"])
    return None


def sandboxed_result(result: ProcessResult, status: bytes) -> ProcessResult:
    """What happened to the command itself, given what happened to ``bwrap`` and its status lines.

    * ``bwrap`` was killed (a limit; the sandbox died with it): the result stands as it is.
    * The command ended: its exit status, with 128 + N read back as "killed by signal N".
    * Neither: the sandbox could not be set up. That is our failure, not the program's.
    """
    if result.signal is not None:
        return result
    code = exit_code_from_status(status)
    if code is None:
        detail = result.stderr[-500:].decode(errors="replace").strip()
        raise InternalError(f"the sandbox did not start the command (bwrap {result.exit_code}): {detail}")
    if _SIGNAL_EXIT_BASE < code <= _SIGNAL_EXIT_BASE + 64:
        return dataclasses.replace(result, exit_code=None, signal=signal_name(code - _SIGNAL_EXIT_BASE))
    return dataclasses.replace(result, exit_code=code)


@dataclass(frozen=True, slots=True)
class Confined:
    """How to start one command under a :class:`SandboxConfig`, and how to read its result."""

    argv: list[str]
    cwd: Path
    limits: ProcessLimits
    pass_fds: tuple[int, ...] = ()
    status_fd: int | None = None
    dies_with_parent: bool = False
    """``argv`` kills itself when the pool process dies (bubblewrap's ``--die-with-parent``)."""

    def result(self, raw: ProcessResult) -> ProcessResult:
        """The command's own result (see :func:`sandboxed_result`)."""
        if self.status_fd is None:
            return raw
        return sandboxed_result(raw, os.pread(self.status_fd, 64 * 1024, 0))


@functools.cache
def present_masked_paths() -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The :data:`MASKED_PATHS` this kernel has: (directories, files). A sandbox's fresh ``/proc`` has
    the same entries as the container's, and its ``/sys`` is the container's."""
    present = [Path(path) for path in MASKED_PATHS if os.path.lexists(path)]
    return (
        tuple(str(path) for path in present if path.is_dir()),
        tuple(str(path) for path in present if not path.is_dir()),
    )


def _unlowered_nproc() -> int:
    """This process's own RLIMIT_NPROC. bwrap must start with it: the kernel caps every user namespace
    by the RLIMIT_NPROC of its creator, counted over all processes of the worker's uid, so a low value
    there would let one job's processes starve another's. The job's own limit is set inside."""
    return resource.getrlimit(resource.RLIMIT_NPROC)[1]


@contextlib.contextmanager
def confine(
    config: SandboxConfig, argv: Sequence[str], scratch: Path, limits: ProcessLimits
) -> Iterator[Confined]:
    """How to run ``argv`` for the job whose scratch directory is ``scratch``, under ``limits``."""
    if not config.isolates:
        yield Confined(list(argv), scratch, limits)
        return
    status_fd = os.memfd_create("bwrap-status", os.MFD_CLOEXEC)
    seccomp_fd = job_filter.filter_fd(_job_filter(config.gvisor))
    try:
        dirs, files = present_masked_paths()
        processes = min(limits.processes, gvisor.JOB_PROCESSES) if config.gvisor else limits.processes
        spec = SandboxSpec(
            scratch,
            processes,
            status_fd,
            masked_dirs=dirs,
            masked_files=files,
            seccomp_fd=seccomp_fd,
            disable_userns=not config.gvisor,
            share_net=config.gvisor,
        )
        yield Confined(
            argv=bwrap_argv(spec, argv),
            cwd=Path("/"),
            limits=dataclasses.replace(
                limits, processes=_unlowered_nproc(), watch_sandbox_memory=config.gvisor
            ),
            pass_fds=(status_fd, seccomp_fd),
            status_fd=status_fd,
            dies_with_parent=True,
        )
    finally:
        os.close(status_fd)
        os.close(seccomp_fd)


@functools.cache
def _job_filter(on_gvisor: bool) -> bytes:
    return job_filter.job_filter(refuse_user_namespaces=on_gvisor)
