"""A real private MariaDB server: started, reused, provisioned for the app user and the read-only workers'
user, listening for containers on the Docker bridge, stopped with its data kept. It runs on a scratch
profile (own state directory and port), never the dev or test stack's."""

import asyncio
from collections.abc import Iterator
from pathlib import Path

import asyncmy
import pytest
from asyncmy.errors import OperationalError
from sqlalchemy.engine import make_url

from devstack import processes
from devstack.console import DevstackError
from devstack.mariadb import MariaDB
from devstack.profile import Profile


@pytest.fixture(scope="module")
def mariadb(scratch_profile: Profile) -> Iterator[MariaDB]:
    server = MariaDB(scratch_profile)
    yield server
    server.stop()


async def query(url: str, statement: str) -> list[tuple[object, ...]]:
    """Run ``statement`` over TCP with the credentials in ``url``, as the app would connect."""
    parts = make_url(url)
    connection = await asyncmy.connect(
        host=parts.host,
        port=parts.port,
        user=parts.username,
        password=parts.password,
        database=parts.database,
    )
    try:
        async with connection.cursor() as cursor:
            await cursor.execute(statement)
            rows = list(await cursor.fetchall())
        await connection.commit()
        return rows
    finally:
        connection.close()


async def test_ensure_starts_a_server_the_app_user_can_use(mariadb: MariaDB, gateway: str) -> None:
    url = await asyncio.to_thread(mariadb.ensure, gateway)
    assert mariadb.started
    assert url.startswith("mysql+asyncmy://executioner:") and url.endswith(
        f"@127.0.0.1:{mariadb.port}/executioner"
    )
    rows = await query(url, "SELECT CURRENT_USER(), DATABASE(), @@character_set_server")
    assert rows == [("executioner@127.0.0.1", "executioner", "utf8mb4")]


async def test_a_second_ensure_reuses_the_running_server(mariadb: MariaDB, gateway: str) -> None:
    first_pid = processes.running_pid(mariadb.pid_file)
    assert await asyncio.to_thread(mariadb.ensure, gateway) == mariadb.url()
    assert not mariadb.started and processes.running_pid(mariadb.pid_file) == first_pid


async def test_it_listens_on_the_bridge_for_the_read_only_workers_user(
    mariadb: MariaDB, gateway: str
) -> None:
    assert mariadb.sql("SELECT @@bind_address").strip() == f"127.0.0.1,{gateway}"
    app_url = await asyncio.to_thread(mariadb.create_database, "executioner_worker_check")
    try:
        await query(app_url, "CREATE TABLE submissions (id CHAR(36) PRIMARY KEY, status VARCHAR(16))")
        await query(app_url, "INSERT INTO submissions VALUES ('a', 'finished')")
        worker_url = mariadb.worker_url("executioner_worker_check", host=gateway)
        assert worker_url.startswith("mysql+asyncmy://executioner_worker:") and f"@{gateway}:" in worker_url
        assert await query(worker_url, "SELECT id, status FROM submissions") == [("a", "finished")]
        with pytest.raises(OperationalError, match="command denied"):
            await query(worker_url, "UPDATE submissions SET status = 'queued'")
    finally:
        await asyncio.to_thread(mariadb.drop_database, "executioner_worker_check")
    # Only the app's databases (executioner, executioner_*) are readable to workers.
    await asyncio.to_thread(mariadb.create_database, "devstack_private")
    try:
        with pytest.raises(OperationalError, match="Access denied"):
            await query(mariadb.worker_url("devstack_private"), "SELECT 1")
    finally:
        await asyncio.to_thread(mariadb.drop_database, "devstack_private")


async def test_a_server_started_on_other_addresses_is_restarted(mariadb: MariaDB, gateway: str) -> None:
    await asyncio.to_thread(mariadb.ensure, "127.0.0.1")  # e.g. the bridge address changed
    assert mariadb.started
    assert mariadb.sql("SELECT @@bind_address").strip() == "127.0.0.1"
    await asyncio.to_thread(mariadb.ensure, gateway)
    assert mariadb.started
    assert mariadb.sql("SELECT @@bind_address").strip() == f"127.0.0.1,{gateway}"


async def test_the_app_user_works_in_databases_created_for_tests(mariadb: MariaDB) -> None:
    url = await asyncio.to_thread(mariadb.create_database, "devstack_selftest")
    await query(url, "CREATE TABLE t (id INT PRIMARY KEY)")
    assert await query(url, "SHOW TABLES") == [("t",)]
    await asyncio.to_thread(mariadb.drop_database, "devstack_selftest")
    assert "devstack_selftest" not in mariadb.sql("SHOW DATABASES").split()


async def test_stop_keeps_the_data_for_the_next_start(mariadb: MariaDB, gateway: str) -> None:
    url = await asyncio.to_thread(mariadb.create_database, "devstack_kept")
    await query(url, "CREATE TABLE kept (v VARCHAR(10))")
    await query(url, "INSERT INTO kept VALUES ('still here')")

    assert await asyncio.to_thread(mariadb.stop) is True
    assert not processes.port_open("127.0.0.1", mariadb.port)

    await asyncio.to_thread(mariadb.ensure, gateway)
    assert mariadb.started
    assert await query(url, "SELECT v FROM kept") == [("still here",)]


def test_database_names_are_checked_before_they_reach_sql(mariadb: MariaDB) -> None:
    with pytest.raises(DevstackError, match="invalid database name"):
        mariadb.create_database("x`; DROP DATABASE executioner; --")


def test_a_socket_path_too_long_for_unix_sockets_moves_to_the_temp_dir(scratch_profile: Profile) -> None:
    deep = Profile(**{**scratch_profile.__dict__, "state_dir": Path("/", *["d" * 40] * 4)})
    assert len(str(MariaDB(deep).socket)) < 100
    assert MariaDB(scratch_profile).socket.parent == scratch_profile.path("mariadb")
