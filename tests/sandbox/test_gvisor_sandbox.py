"""The sandbox on gVisor's kernel (worker/gvisor.py): its command line, and the seccomp filter that
stands in for ``--disable-userns``, loaded for real into a process of this kernel. Jobs running under
gVisor end to end: tests/e2e/test_gvisor.py."""

import json
import subprocess
import sys

import pytest

from tests.sandbox.test_sandbox_command import SCRATCH
from worker.errors import InternalError
from worker.gvisor import no_user_namespaces_filter, sandbox_memory_low
from worker.sandbox import SandboxSpec, bwrap_argv

# Loads the filter into a fresh process (seccomp filters cannot be removed), then tries what a job would.
LOAD_AND_TRY = """
import ctypes, json, os, sys
from worker.gvisor import no_user_namespaces_filter, sandbox_memory_low

libc = ctypes.CDLL(None, use_errno=True)


class Program(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def attempt(call):
    result = call()
    return 0 if result == 0 else ctypes.get_errno()


program = no_user_namespaces_filter()
buffer = ctypes.create_string_buffer(program, len(program))
fprog = Program(len(program) // 8, ctypes.cast(buffer, ctypes.c_void_p))
assert libc.prctl(38, 1, 0, 0, 0) == 0  # PR_SET_NO_NEW_PRIVS
assert libc.prctl(22, 2, ctypes.byref(fprog), 0, 0) == 0, ctypes.get_errno()  # SECCOMP_MODE_FILTER
pid = os.fork()
if pid == 0:
    os._exit(7)
print(json.dumps({
    "unshare_user": attempt(lambda: libc.unshare(0x10000000)),
    "unshare_user_and_mounts": attempt(lambda: libc.unshare(0x10000000 | 0x00020000)),
    "clone3": attempt(lambda: libc.syscall(435, None, 0)),
    "unshare_nothing": attempt(lambda: libc.unshare(0)),
    "fork": os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]),
}))
"""


def test_on_gvisor_the_sandbox_shares_the_pool_network_and_filters_user_namespaces() -> None:
    spec = SandboxSpec(scratch=SCRATCH, processes=64, status_fd=7, seccomp_fd=9, share_net=True)
    options = bwrap_argv(spec, ["true"])[: bwrap_argv(spec, ["true"]).index("--")]
    assert options[options.index("--seccomp") + 1] == "9"
    assert "--disable-userns" not in options
    assert options.index("--unshare-all") < options.index("--share-net")


def test_the_filter_refuses_new_user_namespaces_and_nothing_else() -> None:
    done = subprocess.run(
        [sys.executable, "-c", LOAD_AND_TRY], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {
        "unshare_user": 1,  # EPERM
        "unshare_user_and_mounts": 1,
        "clone3": 38,  # ENOSYS: libc falls back to clone, whose flags the filter sees
        "unshare_nothing": 0,
        "fork": 7,
    }


def test_the_filter_is_whole_instructions_and_knows_only_our_architectures() -> None:
    assert len(no_user_namespaces_filter("x86_64")) == 11 * 8
    assert no_user_namespaces_filter("aarch64") != no_user_namespaces_filter("x86_64")
    with pytest.raises(InternalError, match="architecture"):
        no_user_namespaces_filter("mips")


def test_the_sandbox_runs_low_below_a_tenth_of_its_memory() -> None:
    def meminfo(total_kb: int, available_kb: int) -> str:
        return f"MemTotal: {total_kb} kB\nMemFree: {available_kb} kB\nMemAvailable: {available_kb} kB\n"

    assert not sandbox_memory_low(meminfo(1_048_576, 200_000))
    assert sandbox_memory_low(meminfo(1_048_576, 100_000))  # under 10% of 1 GiB
    assert sandbox_memory_low(meminfo(131_072, 30_000))  # under the 32 MiB floor
    assert not sandbox_memory_low("MemTotal: 1048576 kB\n")  # nothing to judge by: never kill for it
