"""Worker settings and CPU detection."""

from pathlib import Path

import pytest

from worker.cpus import available_cpus, cgroup_cpu_limit, parse_cgroup_v1_quota, parse_cgroup_v2_max
from worker.settings import WorkerSettings


def test_cgroup_quota_parsing() -> None:
    assert parse_cgroup_v2_max("max 100000\n") is None
    assert parse_cgroup_v2_max("150000 100000\n") == 1.5
    assert parse_cgroup_v1_quota("-1\n", "100000\n") is None
    assert parse_cgroup_v1_quota("50000\n", "100000\n") == 0.5


def test_cgroup_quota_from_files(tmp_path: Path) -> None:
    assert cgroup_cpu_limit(tmp_path) is None
    (tmp_path / "cpu.max").write_text("250000 100000\n")
    assert cgroup_cpu_limit(tmp_path) == 2.5


def test_available_cpus_is_at_least_one() -> None:
    assert available_cpus() >= 1


def test_settings_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EXECUTIONER_RUNTIME_FILE", "runtimes/python/runtime.toml")
    monkeypatch.setenv("EXECUTIONER_POOL_SIZE", "3")
    monkeypatch.setenv("EXECUTIONER_BURST", "true")
    monkeypatch.setenv("EXECUTIONER_TOPIC_PREFIX", "t1.")
    settings = WorkerSettings()
    assert settings.pool_size == 3
    assert settings.burst
    assert settings.language_for("python") == "python"
    assert settings.topics.jobs("python") == "t1.jobs.python"
    assert settings.sandbox == "none"


def test_an_explicit_language_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EXECUTIONER_LANGUAGE", "python")
    assert WorkerSettings().language_for("executioner") == "python"
