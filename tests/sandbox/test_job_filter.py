"""The jobs' seccomp filter (worker/job_filter.py), loaded for real into a fresh process of this kernel
(seccomp filters cannot be removed), which then tries what a job would."""

import json
import subprocess
import sys

import pytest

from worker.errors import InternalError
from worker.job_filter import ENOMEM, ENOSYS, EPERM, job_filter

pytestmark = pytest.mark.unit

LOAD_AND_TRY = """
import ctypes, json, os, sys
from worker.job_filter import job_filter

libc = ctypes.CDLL(None, use_errno=True)
IPC_PRIVATE, IPC_CREAT = 0, 0o1000


class Program(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def attempt(call):
    result = call()
    return 0 if result >= 0 else ctypes.get_errno()


program = job_filter(
    refuse_user_namespaces=sys.argv[1] == "refuse", refuse_message_queues=sys.argv[1] == "warm"
)
buffer = ctypes.create_string_buffer(program, len(program))
fprog = Program(len(program) // 8, ctypes.cast(buffer, ctypes.c_void_p))
assert libc.prctl(38, 1, 0, 0, 0) == 0  # PR_SET_NO_NEW_PRIVS
assert libc.prctl(22, 2, ctypes.byref(fprog), 0, 0) == 0, ctypes.get_errno()  # SECCOMP_MODE_FILTER
pid = os.fork()
if pid == 0:
    os._exit(7)
print(json.dumps({
    "memfd_create": attempt(lambda: libc.memfd_create(b"hog", 0)),
    "shmget": attempt(lambda: libc.shmget(IPC_PRIVATE, 1 << 20, IPC_CREAT | 0o600)),
    "msgget": attempt(lambda: libc.msgget(IPC_PRIVATE, IPC_CREAT | 0o600)),
    "semget": attempt(lambda: libc.semget(IPC_PRIVATE, 1, IPC_CREAT | 0o600)),
    "unshare_user": attempt(lambda: libc.unshare(0x10000000)),
    "unshare_user_and_mounts": attempt(lambda: libc.unshare(0x10000000 | 0x00020000)),
    "clone3": attempt(lambda: libc.syscall(435, None, 0)),
    "unshare_nothing": attempt(lambda: libc.unshare(0)),
    "fork": os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]),
    "open_file": attempt(lambda: os.open("/dev/null", os.O_RDONLY)),
    # mq_open(name, O_CREAT | O_RDWR, 0600, NULL): the raw call, as no libc wrapper is sure to exist
    "mq_open": attempt(lambda: libc.syscall(240 if os.uname().machine == "x86_64" else 180,
                                            b"executioner-filter-test", 0o102, 0o600, None)),
}))
if sys.argv[1] != "warm":  # leave no queue behind
    libc.syscall(241 if os.uname().machine == "x86_64" else 181, b"executioner-filter-test")  # mq_unlink
"""
EINVAL = 22
"""clone3 with a null argument and size, as the kernel itself answers it."""
MEMORY_WITHOUT_A_LIMIT = {"memfd_create": ENOMEM, "shmget": ENOMEM, "msgget": ENOMEM}
EVERYTHING_ELSE = {"semget": 0, "unshare_nothing": 0, "fork": 7, "open_file": 0, "mq_open": 0}


def _tried(mode: str) -> dict[str, int]:
    done = subprocess.run(
        [sys.executable, "-c", LOAD_AND_TRY, mode], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    return dict(json.loads(done.stdout))


def test_on_gvisor_the_filter_also_refuses_new_user_namespaces() -> None:
    assert _tried("refuse") == {
        **MEMORY_WITHOUT_A_LIMIT,
        **EVERYTHING_ELSE,
        "unshare_user": EPERM,
        "unshare_user_and_mounts": EPERM,
        "clone3": ENOSYS,  # libc falls back to clone, whose flags the filter sees
    }


def test_on_runc_the_filter_refuses_only_uncounted_memory() -> None:
    tried = _tried("allow")
    # New user namespaces are ``--disable-userns``'s business there (this test runs where they are
    # allowed, as the worker container does).
    assert tried.pop("unshare_user") == 0
    tried.pop("unshare_user_and_mounts")  # from inside the new namespace, whatever it allows
    assert tried == {**MEMORY_WITHOUT_A_LIMIT, **EVERYTHING_ELSE, "clone3": EINVAL}


def test_the_filter_is_whole_instructions_and_knows_only_our_architectures() -> None:
    assert len(job_filter(refuse_user_namespaces=False, machine="x86_64")) % 8 == 0
    assert job_filter(refuse_user_namespaces=False, machine="aarch64") != job_filter(
        refuse_user_namespaces=False, machine="x86_64"
    )
    with pytest.raises(InternalError, match="architecture"):
        job_filter(refuse_user_namespaces=True, machine="mips")


def test_in_a_warm_sandbox_the_filter_also_refuses_posix_message_queues() -> None:
    tried = _tried("warm")
    tried.pop("unshare_user")
    tried.pop("unshare_user_and_mounts")
    assert tried == {**MEMORY_WITHOUT_A_LIMIT, **EVERYTHING_ELSE, "clone3": EINVAL, "mq_open": ENOMEM}
