"""Fixtures of the worker tests: the real python runtime, scratch space and the Kafka to talk to."""

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer

from common.runtimes import Runtime, load_runtime
from schemas.topics import Topics
from tests.worker.support import Results, WorkerStarter, worker_processes
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


@pytest.fixture
async def results(kafka_bootstrap: str, topics: Topics) -> AsyncIterator[Results]:
    """A reader of the test's results topic (the module's ``topics`` fixture creates it), from the start."""
    consumer = AIOKafkaConsumer(
        topics.results, bootstrap_servers=kafka_bootstrap, auto_offset_reset="earliest"
    )
    await consumer.start()
    yield Results(consumer)
    await consumer.stop()


@pytest.fixture
async def start_worker(tmp_path: Path) -> AsyncIterator[WorkerStarter]:
    """Starts ``python -m worker`` host processes (logs in ``tmp_path``), all stopped at the end."""
    async for start in worker_processes(tmp_path):
        yield start
