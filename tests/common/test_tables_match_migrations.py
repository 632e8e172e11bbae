"""common/tables.py says what the migrations create, checked without a database.

The migrations in deploy/mysql/versions are replayed in memory: each operation they ask Alembic for
(``op.create_table``, ``op.add_column``, ...) is applied to a SQLAlchemy ``MetaData`` instead of a server.
Both schemas are then rendered as MySQL DDL, column by column, index by index, so a MySQL-only type
(``LONGTEXT`` against ``TEXT``, ``DATETIME(6)`` against ``DATETIME``), a server default, nullability,
``AUTO_INCREMENT`` or the charset counts, as on the server; the order of columns does not (Alembic's
autogenerate comparison ignores it too). An operation the replay does not know fails the test with its
name: teach :class:`_Replay` it, or it would pass unseen. ``tests/api/test_tables_match_migrations.py``
makes the same check against a migrated MariaDB.
"""

from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.operations import Operations, ops
from alembic.script import ScriptDirectory
from sqlalchemy.dialects import mysql
from sqlalchemy.schema import AddConstraint, CreateColumn, CreateIndex

from api.settings import default_migrations_dir
from common import tables

pytestmark = pytest.mark.unit


class _Replay:
    """Applies the operations of Alembic's ``op`` to :attr:`metadata` instead of a database."""

    def __init__(self, migration_context: MigrationContext) -> None:
        self.migration_context = migration_context
        self.metadata = sa.MetaData()

    def apply(self, operation: ops.MigrateOperation) -> None:
        if isinstance(operation, ops.CreateTableOp):
            operation.to_table(self.migration_context).to_metadata(self.metadata)
        elif isinstance(operation, ops.DropTableOp):
            self.metadata.remove(self._table(operation.table_name))
        elif isinstance(operation, ops.AddColumnOp):
            self._table(operation.table_name).append_column(operation.column)
        elif isinstance(operation, ops.CreateIndexOp):
            table = self._table(operation.table_name)
            columns = [table.c[name] for name in operation.columns if isinstance(name, str)]
            if len(columns) != len(operation.columns):
                raise NotImplementedError(f"index {operation.index_name} on an expression")
            sa.Index(operation.index_name, *columns, unique=bool(operation.unique), **operation.kw)
        elif isinstance(operation, ops.DropIndexOp):
            table = self._table(str(operation.table_name))
            (index,) = (index for index in table.indexes if index.name == operation.index_name)
            table.indexes.remove(index)
        else:
            raise NotImplementedError(f"the in-memory replay does not know {type(operation).__name__}")

    def _table(self, name: str) -> sa.Table:
        return self.metadata.tables[name]


def migrated_metadata() -> sa.MetaData:
    """The schema the migrations create, oldest first, from an empty database."""
    config = Config(str(default_migrations_dir() / "alembic.ini"))
    script = ScriptDirectory.from_config(config)
    # Offline (as_sql) and without a connection: nothing is executed, the replay intercepts every op.
    context = MigrationContext.configure(dialect_name="mysql", opts={"as_sql": True})
    replay = _Replay(context)
    with Operations.context(context) as operations:
        # Every ``op.*`` call of a migration builds its operation object and hands it to ``invoke``.
        operations.invoke = replay.apply  # type: ignore[method-assign,assignment]
        for revision in reversed(list(script.walk_revisions())):
            revision.module.upgrade()
    return replay.metadata


def _ddl(element: sa.sql.ClauseElement) -> str:
    return " ".join(str(element.compile(dialect=mysql.dialect())).split())


def described(metadata: sa.MetaData) -> dict[str, dict[str, Any]]:
    """Each table as MySQL would be told to create it: its columns, keys, indexes and options."""
    return {
        table.name: {
            "columns": {column.name: _ddl(CreateColumn(column)) for column in table.columns},
            "primary key": [column.name for column in table.primary_key.columns],
            "indexes": sorted(_ddl(CreateIndex(index)) for index in table.indexes),
            "constraints": sorted(
                _ddl(AddConstraint(constraint))
                for constraint in table.constraints
                if not isinstance(constraint, sa.PrimaryKeyConstraint)
            ),
            "options": dict(sorted(table.dialect_kwargs.items())),
        }
        for table in metadata.tables.values()
    }


def differences(ours: sa.MetaData, migrated: sa.MetaData) -> list[str]:
    """What differs between ``ours`` (the tables) and ``migrated``, one line each; empty when nothing."""
    return list(_differences(described(ours), described(migrated)))


def _differences(ours: dict[str, Any], migrated: dict[str, Any], where: str = "") -> Iterator[str]:
    for key in sorted(ours.keys() | migrated.keys()):
        name = f"{where}.{key}" if where else key
        if key not in migrated:
            yield f"{name}: only in common/tables.py: {ours[key]!r}"
        elif key not in ours:
            yield f"{name}: only in the migrations: {migrated[key]!r}"
        elif isinstance(ours[key], dict) and isinstance(migrated[key], dict):
            yield from _differences(ours[key], migrated[key], name)
        elif ours[key] != migrated[key]:
            yield f"{name}: common/tables.py has {ours[key]!r}, the migrations {migrated[key]!r}"


def test_tables_match_the_migrations() -> None:
    migrated = migrated_metadata()
    assert set(migrated.tables) >= {"submissions", "outbox", "pools"}  # the replay did replay
    assert differences(tables.metadata, migrated) == []


def _copy(metadata: sa.MetaData) -> sa.MetaData:
    copy = sa.MetaData()
    for table in metadata.tables.values():
        table.to_metadata(copy)
    return copy


def test_a_column_only_in_the_tables_is_a_difference() -> None:
    ours = _copy(tables.metadata)
    ours.tables["pools"].append_column(sa.Column("note", sa.String(32), nullable=True))
    assert differences(ours, migrated_metadata()) == [
        "pools.columns.note: only in common/tables.py: 'note VARCHAR(32)'"
    ]


def test_a_mysql_type_that_differs_is_a_difference() -> None:
    """``LONGTEXT`` and ``TEXT`` are one type to SQLite; the comparison renders MySQL's DDL."""
    migrated = migrated_metadata()
    observed = migrated.tables["pool_status"].c.observed
    observed.type = sa.Text()
    assert differences(tables.metadata, migrated) == [
        "pool_status.columns.observed: common/tables.py has 'observed LONGTEXT NOT NULL', "
        "the migrations 'observed TEXT NOT NULL'"
    ]


def test_an_operation_the_replay_does_not_know_fails_by_name() -> None:
    replay = _Replay(MigrationContext.configure(dialect_name="mysql", opts={"as_sql": True}))
    with pytest.raises(NotImplementedError, match="AlterColumnOp"):
        replay.apply(ops.AlterColumnOp("pools", "replicas", modify_nullable=True))
