"""How many CPUs this process may really use: its affinity mask, capped by a cgroup CPU quota."""

import math
import os
from pathlib import Path

CGROUP_ROOT = Path("/sys/fs/cgroup")


def parse_cgroup_v2_max(text: str) -> float | None:
    """CPUs allowed by a cgroup v2 ``cpu.max`` line (``"200000 100000"``); None when unlimited."""
    quota, _, period = text.strip().partition(" ")
    if quota == "max" or not period:
        return None
    return int(quota) / int(period)


def parse_cgroup_v1_quota(quota_text: str, period_text: str) -> float | None:
    """CPUs allowed by cgroup v1 ``cpu.cfs_quota_us`` / ``cpu.cfs_period_us``; None when unlimited."""
    quota = int(quota_text.strip())
    period = int(period_text.strip())
    if quota <= 0 or period <= 0:
        return None
    return quota / period


def cgroup_cpu_limit(root: Path = CGROUP_ROOT) -> float | None:
    """The CPU quota of this process's cgroup (v2 or v1), in CPUs; None when there is none."""
    try:
        v2 = root / "cpu.max"
        if v2.exists():
            return parse_cgroup_v2_max(v2.read_text())
        v1 = root / "cpu"
        if (v1 / "cpu.cfs_quota_us").exists():
            return parse_cgroup_v1_quota(
                (v1 / "cpu.cfs_quota_us").read_text(), (v1 / "cpu.cfs_period_us").read_text()
            )
    except (OSError, ValueError):
        return None  # an unreadable or odd cgroup file means no quota we can honour
    return None


def available_cpus() -> int:
    """CPUs in the affinity mask, capped by the cgroup quota (rounded up), at least 1."""
    cpus = len(os.sched_getaffinity(0))
    quota = cgroup_cpu_limit()
    if quota is not None:
        cpus = min(cpus, math.ceil(quota))
    return max(cpus, 1)
