"""The seccomp filter every sandboxed command runs under (``bwrap --seccomp``), on runc and on gVisor.

Memory a job holds outside every process's resident set escapes the worker's memory watch and counts only
against the whole container, where the kernel's OOM killer then picks a victim by resident size: the
worker's main process, once a job has lowered its ``oom_score_adj`` back to the value it inherited (the
kernel lets any process do that). So the filter refuses the calls that create such memory without a file
system to bound it, with ENOMEM, as if memory had run out (runtimes report it, and the verdict is
``memory_limit_exceeded``):

* ``memfd_create``: anonymous files of any size, one per descriptor;
* ``shmget`` and ``msgget``: System V shared memory and message queues, which outlive their processes;
* in a warm sandbox (worker/warm.py), ``mq_open`` too: POSIX message queues outlive their processes in
  the sandbox's IPC namespace, which lives longer than a job there.

Files on tmpfs are bounded by the job's scratch file system (worker/scratch.py), which also backs
``/dev/shm``. On gVisor, which lacks the sysctl behind ``bwrap --disable-userns``, the same filter also
refuses new user namespaces: ``unshare`` and ``clone`` with ``CLONE_NEWUSER`` (EPERM) and every
``clone3`` (ENOSYS: its flags sit behind a pointer a filter cannot read; libc then falls back to
``clone``, whose flags it can).
"""

import os
import platform
import struct
from dataclasses import dataclass

from worker.errors import InternalError

# Classic BPF, as seccomp runs it: instruction = (code, jump if true, jump if false, constant).
_LOAD_WORD = 0x20  # BPF_LD | BPF_W | BPF_ABS: A = the word at an offset of struct seccomp_data
_JUMP_IF_EQUAL = 0x15  # BPF_JMP | BPF_JEQ | BPF_K
_JUMP_IF_BITS = 0x45  # BPF_JMP | BPF_JSET | BPF_K
_RETURN = 0x06  # BPF_RET | BPF_K
_ALLOW = 0x7FFF0000
_ERRNO = 0x00050000
EPERM, ENOMEM, ENOSYS = 1, 12, 38
_CLONE_NEWUSER = 0x10000000
_OFFSET_NR, _OFFSET_ARCH, _OFFSET_ARG0 = 0, 4, 16


@dataclass(frozen=True)
class _Syscalls:
    audit_arch: int
    memfd_create: int
    shmget: int
    msgget: int
    unshare: int
    clone: int
    clone3: int
    mq_open: int


_ARCHITECTURES = {
    "x86_64": _Syscalls(
        0xC000003E,
        memfd_create=319,
        shmget=29,
        msgget=68,
        unshare=272,
        clone=56,
        clone3=435,
        mq_open=240,
    ),
    "aarch64": _Syscalls(
        0xC00000B7,
        memfd_create=279,
        shmget=194,
        msgget=186,
        unshare=97,
        clone=220,
        clone3=435,
        mq_open=180,
    ),
}


@dataclass(frozen=True)
class _Rule:
    """Fail syscall ``number`` with ``errno`` (only when its first argument has a bit of ``flags``, if
    given)."""

    number: int
    errno: int
    flags: int | None = None

    def instructions(self) -> list[tuple[int, int, int, int]]:
        refuse = (_RETURN, 0, 0, _ERRNO | self.errno)
        if self.flags is None:
            return [(_LOAD_WORD, 0, 0, _OFFSET_NR), (_JUMP_IF_EQUAL, 0, 1, self.number), refuse]
        return [
            (_LOAD_WORD, 0, 0, _OFFSET_NR),
            (_JUMP_IF_EQUAL, 0, 3, self.number),
            (_LOAD_WORD, 0, 0, _OFFSET_ARG0),  # the flags (their low 32 bits)
            (_JUMP_IF_BITS, 0, 1, self.flags),
            refuse,
        ]


def job_filter(
    *, refuse_user_namespaces: bool, refuse_message_queues: bool = False, machine: str | None = None
) -> bytes:
    """The seccomp program for jobs on ``machine`` (default: ours); ``refuse_user_namespaces`` where
    ``--disable-userns`` cannot do it (gVisor); ``refuse_message_queues`` in a warm sandbox. Syscalls
    of other architectures pass: the container's own seccomp profile has no 32-bit entry points."""
    try:
        calls = _ARCHITECTURES[machine or platform.machine()]
    except KeyError as exc:
        raise InternalError(f"no job seccomp filter for the {exc} architecture") from exc
    rules = [_Rule(calls.memfd_create, ENOMEM), _Rule(calls.shmget, ENOMEM), _Rule(calls.msgget, ENOMEM)]
    if refuse_message_queues:
        rules.append(_Rule(calls.mq_open, ENOMEM))
    if refuse_user_namespaces:
        rules += [
            _Rule(calls.unshare, EPERM, _CLONE_NEWUSER),
            _Rule(calls.clone, EPERM, _CLONE_NEWUSER),
            _Rule(calls.clone3, ENOSYS),
        ]
    program = [
        (_LOAD_WORD, 0, 0, _OFFSET_ARCH),
        (_JUMP_IF_EQUAL, 1, 0, calls.audit_arch),
        (_RETURN, 0, 0, _ALLOW),  # another architecture
        *(instruction for rule in rules for instruction in rule.instructions()),
        (_RETURN, 0, 0, _ALLOW),
    ]
    return b"".join(struct.pack("=HBBI", *instruction) for instruction in program)


def filter_fd(program: bytes) -> int:
    """A fresh file descriptor holding ``program``, read from its start (bubblewrap reads it to the
    end). The caller closes it."""
    fd = os.memfd_create("bwrap-seccomp", os.MFD_CLOEXEC)
    os.write(fd, program)
    os.lseek(fd, 0, os.SEEK_SET)
    return fd
