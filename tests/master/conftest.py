"""Fixtures of the master tests: a fresh MariaDB database per test, a stand-in worker image on the real
Docker engine, and an in-process master with its own cluster label.

Service addresses: ``EXECUTIONER_DATABASE_URL`` (its user may create databases) and Docker from the
environment (``DOCKER_HOST``...), as the docker CLI finds it. The stand-in worker image is a tag of the base
image devstack itself provides (``debian:bookworm-slim``, pulled or built), never one left on a machine.
"""

import asyncio
import contextlib
import os
import secrets
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import docker
import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from devstack.base_image import BASE_IMAGE
from master.app import Master
from master.settings import MasterSettings
from master.spec import LABEL_CLUSTER
from tests.fixtures.services import Services

REPO = Path(__file__).resolve().parents[2]
LANGUAGE = "sleeper"
# A worker stand-in: idles, and exits at once on SIGTERM as a drained worker would.
SLEEPER_COMMAND = ["sh", "-c", "trap 'exit 0' TERM; sleep infinity & wait"]
SLEEPER_RUNTIME = """
name = "Sleeper"
source_file = "main.sh"
run = ["sh", "main.sh"]
version = ["cat", "/etc/debian_version"]

[selftest]
source = "cat"
"""


def admin_database_url() -> str:
    """The MariaDB the tests create their databases in."""
    return os.environ["EXECUTIONER_DATABASE_URL"]  # set by tests/conftest.py from devstack


def migrate(database_url: str) -> None:
    """Apply the project's migrations, as the API does at start-up (blocking)."""
    config = Config(str(REPO / "deploy" / "mysql" / "alembic.ini"))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    command.upgrade(config, "head")


@pytest.fixture(scope="session")
def docker_client() -> Iterator[Any]:
    """The Docker engine the tests run containers on."""
    client = docker.from_env()
    yield client
    client.close()


@pytest.fixture(scope="session")
def worker_image(docker_client: Any, services: Services) -> Iterator[str]:
    """``worker_image`` for the master: a tag of devstack's base image (which the session's services
    provide), unique to this session."""
    tag = secrets.token_hex(4)
    docker_client.images.get(BASE_IMAGE).tag(f"executioner-test/worker-{LANGUAGE}", tag)
    yield f"executioner-test/worker-{{language}}:{tag}"
    docker_client.images.remove(f"executioner-test/worker-{LANGUAGE}:{tag}")


@pytest.fixture(scope="session")
def runtimes_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A runtimes directory with the one stand-in language."""
    root = tmp_path_factory.mktemp("runtimes")
    (root / LANGUAGE).mkdir()
    (root / LANGUAGE / "runtime.toml").write_text(SLEEPER_RUNTIME)
    return root


@contextlib.asynccontextmanager
async def new_database() -> AsyncIterator[str]:
    """The URL of a new, empty database, dropped at the end of the block."""
    admin_url = make_url(admin_database_url())
    name = f"master_test_{secrets.token_hex(4)}"
    admin = create_async_engine(admin_url, pool_pre_ping=True)  # MariaDB restarts in outage tests
    async with admin.begin() as conn:
        await conn.execute(text(f"CREATE DATABASE `{name}`"))
    try:
        yield admin_url.set(database=name).render_as_string(hide_password=False)
    finally:
        async with admin.begin() as conn:
            await conn.execute(text(f"DROP DATABASE `{name}`"))
        await admin.dispose()


@pytest.fixture
async def empty_database() -> AsyncIterator[str]:
    """A database without any table (as before the API's first start)."""
    async with new_database() as url:
        yield url


@pytest.fixture
async def database_url() -> AsyncIterator[str]:
    """A new database with the project's schema."""
    async with new_database() as url:
        await asyncio.to_thread(migrate, url)
        yield url


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[AsyncEngine]:
    """An engine on the test's database, for arranging and checking rows."""
    engine = create_async_engine(database_url)
    yield engine
    await engine.dispose()


@pytest.fixture
def cluster(docker_client: Any) -> Iterator[str]:
    """A cluster label of this test alone; its containers are removed afterwards, whatever happened."""
    name = f"mtest-{secrets.token_hex(4)}"
    yield name
    for container in docker_client.containers.list(
        ignore_removed=True, all=True, filters={"label": f"{LABEL_CLUSTER}={name}"}
    ):
        container.remove(force=True)


@pytest.fixture
def settings(cluster: str, database_url: str, worker_image: str, runtimes_dir: Path) -> MasterSettings:
    """Master settings for this test: every field that matters is explicit, whatever the environment."""
    return MasterSettings(
        cluster=cluster,
        database_url=database_url,
        runtimes_dir=runtimes_dir,
        languages=[LANGUAGE],
        default_replicas=1,
        worker_image=worker_image,
        worker_command=SLEEPER_COMMAND,
        worker_kafka_bootstrap="kafka.invalid:9092",
        worker_memory_mb=64,
        worker_tmp_mb=16,
        topic_prefix=f"{cluster}.",
        resync_s=1.0,
        stop_grace_s=5.0,
        stop_workers_on_exit=False,
        crash_backoff_s=0.5,
        crash_backoff_max_s=30.0,
    )


@contextlib.asynccontextmanager
async def running_master(settings: MasterSettings) -> AsyncIterator[Master]:
    """An in-process master, started and (at the end of the block) shut down as SIGTERM would."""
    stop = asyncio.Event()
    master = Master(settings)
    try:
        assert await master.start(stop)
        run = asyncio.create_task(master.run(stop), name="test-master")
        try:
            yield master
        finally:
            stop.set()
            await run
    finally:
        await master.shutdown()
