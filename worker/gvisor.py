"""Sandboxing jobs on gVisor's kernel (the worker container run by Docker's runtime ``runsc``,
``EXECUTIONER_WORKER_RUNTIME``).

bubblewrap trips over two differences between gVisor and Linux, so the sandbox works around them there:

* gVisor has no user-namespace sysctls (``/proc/sys/user/max_user_namespaces``), on which bubblewrap's
  ``--disable-userns`` relies. Instead, a seccomp filter (``bwrap --seccomp``) refuses ``unshare`` and
  ``clone`` with ``CLONE_NEWUSER`` (EPERM) and every ``clone3`` (ENOSYS: its flags sit behind a pointer a
  filter cannot read; libc then falls back to ``clone``).
* A new network namespace comes with its loopback interface already up, and bubblewrap's own loopback
  set-up for ``--unshare-net`` fails on it (google/gvisor#13438). Instead, each pool process enters a
  network namespace of its own (worker/scratch.py) with nothing but loopback, and the sandboxes of its
  jobs, one after the other, share it (``--share-net``).

And one difference matters to the memory limit: on gVisor the whole container is one sandbox on the
host, so when it runs out of memory the host kills all of it, worker included, not just the job that
took the memory. Memory a job holds outside every process's resident set (memfds, files on tmpfs) gets
there past the worker's per-tree watch. gVisor's ``/proc/meminfo`` counts the whole sandbox against the
container's limit, though, so the worker watches that too (:func:`sandbox_memory_low`) and ends a job
before the sandbox runs dry.

Host tasks are the other resource a job can exhaust for everyone: gVisor runs each process and thread
of a job on host tasks of its own, which the container's pids limit counts, and it cannot survive
failing to create one. So a job's process and thread limit (RLIMIT_NPROC) is lower on gVisor
(:data:`JOB_PROCESSES`).

The missing sysctl is also how the worker recognises gVisor.
"""

import os
import platform
import struct
from pathlib import Path

from worker.errors import InternalError

MAX_USER_NAMESPACES = Path("/proc/sys/user/max_user_namespaces")
MEMINFO = Path("/proc/meminfo")
JOB_PROCESSES = 64
"""RLIMIT_NPROC of a job on gVisor: with the pool's other jobs and gVisor's own threads it stays well
inside the worker container's pids limit (512 by default)."""
MEMORY_RESERVE_FRACTION = 0.1
"""Below this fraction of the container's memory still available, a running job is ended."""
MEMORY_RESERVE_MIN_KB = 32 * 1024

# Classic BPF, as seccomp runs it: instruction = (code, jump if true, jump if false, constant).
_LOAD_WORD = 0x20  # BPF_LD | BPF_W | BPF_ABS: A = the word at an offset of struct seccomp_data
_JUMP_IF_EQUAL = 0x15  # BPF_JMP | BPF_JEQ | BPF_K
_JUMP_IF_BITS = 0x45  # BPF_JMP | BPF_JSET | BPF_K
_RETURN = 0x06  # BPF_RET | BPF_K
_ALLOW = 0x7FFF0000
_ERRNO = 0x00050000
_EPERM = 1
_ENOSYS = 38
_CLONE_NEWUSER = 0x10000000
_OFFSET_NR, _OFFSET_ARCH, _OFFSET_ARG0 = 0, 4, 16
# Audit architecture and the syscall numbers of unshare, clone and clone3.
_ARCHITECTURES = {
    "x86_64": (0xC000003E, 272, 56, 435),
    "aarch64": (0xC00000B7, 97, 220, 435),
}


def on_gvisor() -> bool:
    """Whether this process runs on gVisor's kernel (see the module's docstring)."""
    return not MAX_USER_NAMESPACES.exists()


def sandbox_memory_low(meminfo: str | None = None) -> bool:
    """Whether the sandbox is close to its memory limit (gVisor only: elsewhere ``/proc/meminfo`` is
    the host's). ``meminfo``: the file's text, read when not given."""
    fields: dict[str, int] = {}
    for line in (MEMINFO.read_text() if meminfo is None else meminfo).splitlines():
        name, _, value = line.partition(":")
        if name in ("MemTotal", "MemAvailable"):
            fields[name] = int(value.split()[0])
    total, available = fields.get("MemTotal"), fields.get("MemAvailable")
    if total is None or available is None:
        return False
    return available < max(MEMORY_RESERVE_MIN_KB, int(total * MEMORY_RESERVE_FRACTION))


def no_user_namespaces_filter(machine: str | None = None) -> bytes:
    """The seccomp program (``bwrap --seccomp``) that refuses new user namespaces on ``machine``
    (default: ours). Syscalls of other architectures pass: the container's own seccomp profile has no
    32-bit entry points."""
    try:
        arch, unshare, clone, clone3 = _ARCHITECTURES[machine or platform.machine()]
    except KeyError as exc:
        raise InternalError(f"no user-namespace filter for the {exc} architecture") from exc
    program = [
        (_LOAD_WORD, 0, 0, _OFFSET_ARCH),
        (_JUMP_IF_EQUAL, 0, 6, arch),  # another architecture: allow
        (_LOAD_WORD, 0, 0, _OFFSET_NR),
        (_JUMP_IF_EQUAL, 2, 0, unshare),  # to the flags check
        (_JUMP_IF_EQUAL, 1, 0, clone),  # to the flags check
        (_JUMP_IF_EQUAL, 3, 2, clone3),  # ENOSYS, else allow
        (_LOAD_WORD, 0, 0, _OFFSET_ARG0),  # the flags (their low 32 bits)
        (_JUMP_IF_BITS, 2, 0, _CLONE_NEWUSER),  # EPERM
        (_RETURN, 0, 0, _ALLOW),
        (_RETURN, 0, 0, _ERRNO | _ENOSYS),
        (_RETURN, 0, 0, _ERRNO | _EPERM),
    ]
    return b"".join(struct.pack("=HBBI", *instruction) for instruction in program)


def filter_fd() -> int:
    """A fresh file descriptor holding :func:`no_user_namespaces_filter`, read from its start (bubblewrap
    reads it to the end). The caller closes it."""
    fd = os.memfd_create("bwrap-seccomp", os.MFD_CLOEXEC)
    os.write(fd, no_user_namespaces_filter())
    os.lseek(fd, 0, os.SEEK_SET)
    return fd
