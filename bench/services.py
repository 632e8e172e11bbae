"""Where the benchmark's Kafka, MariaDB and Docker images come from, and its private database.

The bench never starts services of its own: it reuses those of the test profile (started by devstack when
they are not running, exactly as the test suite does), the dev profile while ``make up`` runs, or the
addresses in the environment. Isolation comes from a fresh database, topic prefix and cluster label.
"""

from dataclasses import dataclass

import docker
import sqlalchemy as sa
from docker.errors import ImageNotFound
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from common.settings import DatabaseSettings, KafkaSettings
from devstack import stack
from devstack.profile import load_profile


class BenchSettings(KafkaSettings, DatabaseSettings):
    """The service addresses the bench may take from ``EXECUTIONER_*`` variables (``--services env``)."""

    worker_kafka_bootstrap: str | None = None
    """Kafka as worker containers reach it; default: ``kafka_bootstrap``."""
    worker_image: str = "executioner/worker-{language}:latest"
    """Image of a language's workers (the floor runs in the same image)."""


@dataclass(frozen=True)
class ServiceAddresses:
    """The services one benchmark run uses."""

    source: str
    """``env``, ``dev`` or ``test``: where the addresses came from."""
    database_url: str
    kafka_bootstrap: str
    worker_kafka_bootstrap: str
    worker_image: str


class ServicesError(RuntimeError):
    """The services (or images) the bench needs are not there."""


def resolve(choice: str, languages: list[str]) -> ServiceAddresses:
    """The services for ``--services choice`` (see :mod:`bench.options`), with the worker images of
    ``languages`` built when they come from a devstack profile. Blocking: run it in a thread."""
    settings = BenchSettings()
    if choice == "auto":
        choice = _auto(settings)
    if choice == "env":
        missing = {"kafka_bootstrap", "database_url"} - settings.model_fields_set
        if missing:
            names = ", ".join(f"EXECUTIONER_{name.upper()}" for name in sorted(missing))
            raise ServicesError(f"--services env needs {names}")
        addresses = ServiceAddresses(
            "env",
            settings.database_url,
            settings.kafka_bootstrap,
            settings.worker_kafka_bootstrap or settings.kafka_bootstrap,
            settings.worker_image,
        )
    else:
        started = stack.start_services(load_profile(choice), languages)
        addresses = ServiceAddresses(
            choice,
            started.database_url,
            started.kafka_bootstrap,
            started.worker_kafka_bootstrap,
            settings.worker_image,
        )
    _require_images(addresses, languages)
    return addresses


def _auto(settings: BenchSettings) -> str:
    if {"kafka_bootstrap", "database_url"} <= settings.model_fields_set:
        return "env"
    running = stack.watched_processes(load_profile("dev"))
    return "dev" if {"kafka", "mysql"} <= running.keys() else "test"


def _require_images(addresses: ServiceAddresses, languages: list[str]) -> None:
    engine = docker.from_env(timeout=30)
    try:
        for language in languages:
            image = addresses.worker_image.format(language=language)
            try:
                engine.images.get(image)
            except ImageNotFound:
                raise ServicesError(f"image {image} is missing: `make images` builds it") from None
    finally:
        engine.close()


async def create_database(server_url: str, name: str) -> str:
    """Create the empty database ``name`` on the server of ``server_url`` (the app user may create
    databases); returns its URL."""
    await _execute(server_url, f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


async def drop_database(server_url: str, name: str) -> None:
    """Drop the database ``name`` if it exists."""
    await _execute(server_url, f"DROP DATABASE IF EXISTS `{name}`")


async def _execute(server_url: str, statement: str) -> None:
    engine = create_async_engine(server_url, pool_pre_ping=True)
    try:
        async with engine.begin() as conn:
            await conn.execute(sa.text(statement))
    finally:
        await engine.dispose()
