"""Fixtures of the worker tests: the real python runtime, scratch space and the Kafka to talk to."""

import os
from pathlib import Path

import pytest

from common.runtimes import Runtime, load_runtime
from worker.execute import ExecConfig

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def python_runtime() -> Runtime:
    """``runtimes/python/runtime.toml`` of this checkout."""
    return load_runtime(REPO / "runtimes" / "python" / "runtime.toml")


@pytest.fixture
def exec_config(tmp_path: Path) -> ExecConfig:
    """Jobs get their scratch directories under the test's own temporary directory."""
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    return ExecConfig(scratch_dir=scratch, worker_id="test-worker")


@pytest.fixture(scope="session")
def kafka_bootstrap() -> str:
    """The test profile's Kafka (tests/conftest.py exports its address)."""
    return os.environ["EXECUTIONER_KAFKA_BOOTSTRAP"]
