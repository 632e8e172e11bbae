"""Whether the kernel is gVisor's is decided once, when the worker starts (worker/service.py), and reaches
the pool processes as data (``SandboxConfig.gvisor``): nothing below the service asks the kernel again."""

import pickle
from pathlib import Path

import pytest

from worker import gvisor
from worker.limits import ProcessLimits
from worker.sandbox import confine
from worker.service import exec_config
from worker.settings import WorkerSettings

pytestmark = pytest.mark.unit

LIMITS = ProcessLimits(cpu_ms=1000, wall_ms=3000, memory_bytes=1 << 27, output_bytes=1 << 16, processes=256)


class CountedSysctl:
    """Stands in for ``/proc/sys/user/max_user_namespaces`` (the sysctl gVisor lacks) and counts how
    often it is looked at, which is how the worker probes the kernel."""

    def __init__(self, *, present: bool) -> None:
        self.present = present
        self.probes = 0

    def exists(self) -> bool:
        self.probes += 1
        return self.present


def test_the_kernel_is_probed_once_and_the_pool_processes_get_the_answer(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    sysctl = CountedSysctl(present=False)  # gVisor's kernel
    monkeypatch.setattr(gvisor, "MAX_USER_NAMESPACES", sysctl)
    config = exec_config(WorkerSettings(sandbox="bwrap", scratch_dir=tmp_path))
    assert sysctl.probes == 1

    sysctl.present = True  # the machine now looks like Linux: what was decided must not change
    received = pickle.loads(pickle.dumps(config))  # as a pool process receives it
    assert received.sandbox.gvisor
    with confine(received.sandbox, ["true"], tmp_path, LIMITS) as confined:
        options = confined.argv[: confined.argv.index("--")]
        assert "--share-net" in options and "--disable-userns" not in options
        assert confined.argv[-3] == str(gvisor.JOB_PROCESSES)  # gVisor's lower process limit
        assert confined.limits.watch_sandbox_memory
    assert sysctl.probes == 1


def test_on_linux_the_sandbox_is_set_up_for_linux(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    sysctl = CountedSysctl(present=True)
    monkeypatch.setattr(gvisor, "MAX_USER_NAMESPACES", sysctl)
    config = exec_config(WorkerSettings(sandbox="bwrap", scratch_dir=tmp_path))
    assert (sysctl.probes, config.sandbox.gvisor) == (1, False)
    with confine(config.sandbox, ["true"], tmp_path, LIMITS) as confined:
        assert "--disable-userns" in confined.argv and "--share-net" not in confined.argv
        assert not confined.limits.watch_sandbox_memory
    assert sysctl.probes == 1


def test_without_the_sandbox_the_kernel_is_not_probed(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    sysctl = CountedSysctl(present=False)
    monkeypatch.setattr(gvisor, "MAX_USER_NAMESPACES", sysctl)
    config = exec_config(WorkerSettings(sandbox="none", scratch_dir=tmp_path))
    assert (sysctl.probes, config.sandbox.gvisor, config.sandbox.isolates) == (0, False, False)
