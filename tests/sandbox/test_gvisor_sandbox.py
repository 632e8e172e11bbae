"""The sandbox on gVisor's kernel (worker/gvisor.py): its command line and its memory guard. The seccomp
filter that stands in for ``--disable-userns`` there: tests/sandbox/test_job_filter.py. Jobs running under
gVisor end to end: tests/e2e/test_gvisor.py."""

import pytest

from tests.sandbox.test_sandbox_command import SCRATCH
from worker.gvisor import sandbox_memory_low
from worker.sandbox import SandboxSpec, bwrap_argv

pytestmark = pytest.mark.unit


def test_on_gvisor_the_sandbox_shares_the_pool_network_and_filters_user_namespaces() -> None:
    spec = SandboxSpec(
        scratch=SCRATCH, processes=64, status_fd=7, seccomp_fd=9, disable_userns=False, share_net=True
    )
    options = bwrap_argv(spec, ["true"])[: bwrap_argv(spec, ["true"]).index("--")]
    assert options[options.index("--seccomp") + 1] == "9"
    assert "--disable-userns" not in options
    assert options.index("--unshare-all") < options.index("--share-net")


def test_the_sandbox_runs_low_below_a_tenth_of_its_memory() -> None:
    def meminfo(total_kb: int, available_kb: int) -> str:
        return f"MemTotal: {total_kb} kB\nMemFree: {available_kb} kB\nMemAvailable: {available_kb} kB\n"

    assert not sandbox_memory_low(meminfo(1_048_576, 200_000))
    assert sandbox_memory_low(meminfo(1_048_576, 100_000))  # under 10% of 1 GiB
    assert sandbox_memory_low(meminfo(131_072, 30_000))  # under the 32 MiB floor
    assert not sandbox_memory_low("MemTotal: 1048576 kB\n")  # nothing to judge by: never kill for it
