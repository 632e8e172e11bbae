"""A real private MariaDB server: started, reused, provisioned for the app user, stopped with its data
kept. It runs on a scratch profile (own state directory and port), never the dev or test stack's."""

import asyncio
from collections.abc import Iterator
from pathlib import Path

import asyncmy
import pytest
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


async def test_ensure_starts_a_server_the_app_user_can_use(mariadb: MariaDB) -> None:
    url = await asyncio.to_thread(mariadb.ensure)
    assert mariadb.started
    assert url.startswith("mysql+asyncmy://executioner:") and url.endswith(
        f"@127.0.0.1:{mariadb.port}/executioner"
    )
    rows = await query(url, "SELECT CURRENT_USER(), DATABASE(), @@character_set_server")
    assert rows == [("executioner@127.0.0.1", "executioner", "utf8mb4")]


async def test_a_second_ensure_reuses_the_running_server(mariadb: MariaDB) -> None:
    first_pid = processes.running_pid(mariadb.pid_file)
    assert await asyncio.to_thread(mariadb.ensure) == mariadb.url()
    assert not mariadb.started and processes.running_pid(mariadb.pid_file) == first_pid


async def test_the_app_user_works_in_databases_created_for_tests(mariadb: MariaDB) -> None:
    url = await asyncio.to_thread(mariadb.create_database, "devstack_selftest")
    await query(url, "CREATE TABLE t (id INT PRIMARY KEY)")
    assert await query(url, "SHOW TABLES") == [("t",)]
    await asyncio.to_thread(mariadb.drop_database, "devstack_selftest")
    assert "devstack_selftest" not in mariadb.sql("SHOW DATABASES").split()


async def test_stop_keeps_the_data_for_the_next_start(mariadb: MariaDB) -> None:
    url = await asyncio.to_thread(mariadb.create_database, "devstack_kept")
    await query(url, "CREATE TABLE kept (v VARCHAR(10))")
    await query(url, "INSERT INTO kept VALUES ('still here')")

    assert await asyncio.to_thread(mariadb.stop) is True
    assert not processes.port_open("127.0.0.1", mariadb.port)

    await asyncio.to_thread(mariadb.ensure)
    assert mariadb.started
    assert await query(url, "SELECT v FROM kept") == [("still here",)]


def test_database_names_are_checked_before_they_reach_sql(mariadb: MariaDB) -> None:
    with pytest.raises(DevstackError, match="invalid database name"):
        mariadb.create_database("x`; DROP DATABASE executioner; --")


def test_a_socket_path_too_long_for_unix_sockets_moves_to_the_temp_dir(scratch_profile: Profile) -> None:
    deep = Profile(**{**scratch_profile.__dict__, "state_dir": Path("/", *["d" * 40] * 4)})
    assert len(str(MariaDB(deep).socket)) < 100
    assert MariaDB(scratch_profile).socket.parent == scratch_profile.path("mariadb")
