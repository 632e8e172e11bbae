"""The MySQL schema: one SQLAlchemy Core ``Table`` per table, on one ``metadata``, column for column as
the Alembic migrations in ``deploy/mysql/versions/`` create them.

The API runs the migrations and reads and writes every table; the master reads and writes ``pools``,
``pool_status``, ``runtime_versions`` and ``hosts``. The worker does not import this module (its images do not
install SQLAlchemy): its one read-only query is a literal that a unit test compares to the same query
built from these tables. ``tests/common/test_tables_match_migrations.py`` replays the migrations without a
database and fails when they and these tables differ, so a column is added here and in a new migration,
in the same change.
"""

import sqlalchemy as sa
from sqlalchemy.dialects import mysql

DT = sa.DateTime(timezone=False).with_variant(mysql.DATETIME(fsp=6), "mysql")
LONGTEXT = sa.Text().with_variant(mysql.LONGTEXT(), "mysql")
LONGBLOB = sa.LargeBinary().with_variant(mysql.LONGBLOB(), "mysql")

metadata = sa.MetaData()

submissions = sa.Table(
    "submissions",
    metadata,
    sa.Column("id", sa.CHAR(36), primary_key=True),
    sa.Column("language", sa.String(32), nullable=False),
    sa.Column("source", LONGTEXT, nullable=False),
    sa.Column("stdin", LONGTEXT, nullable=False),
    sa.Column("spec", LONGTEXT, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("verdict", sa.String(32), nullable=True),
    sa.Column("outcome", LONGTEXT, nullable=True),
    sa.Column("last_seq", sa.Integer, nullable=False, server_default="0"),
    sa.Column("worker", sa.String(128), nullable=True),
    sa.Column("origin", sa.String(16), nullable=False, server_default="http"),
    sa.Column("created_at", DT, nullable=False),
    sa.Column("started_at", DT, nullable=True),
    sa.Column("finished_at", DT, nullable=True),
    # The api_keys.id of the key that submitted it; null when keys were off or an admin submitted it.
    sa.Column("owner_key", sa.String(24), nullable=True),
    # The stored problem version it was judged against (docs/problems.md); null for ad-hoc programs.
    sa.Column("problem_slug", sa.String(64), nullable=True),
    sa.Column("problem_version", sa.Integer, nullable=True),
    sa.Index("ix_submissions_status_created", "status", "created_at"),
    sa.Index("ix_submissions_worker_status", "worker", "status"),
    sa.Index("ix_submissions_owner_status", "owner_key", "status"),
    sa.Index("ix_submissions_problem", "problem_slug", "problem_version"),
    mysql_charset="utf8mb4",
)

submission_tests = sa.Table(
    "submission_tests",
    metadata,
    sa.Column("submission_id", sa.CHAR(36), primary_key=True),
    sa.Column("seq", sa.Integer, primary_key=True),
    sa.Column("view", sa.Text, nullable=False),
    mysql_charset="utf8mb4",
)

deleted_submissions = sa.Table(
    "deleted_submissions",
    metadata,
    # A deleted submission's id, so an event or a job record that arrives late does not bring it back.
    sa.Column("id", sa.CHAR(36), primary_key=True),
    sa.Column("deleted_at", DT, nullable=False),
    sa.Index("ix_deleted_submissions_deleted_at", "deleted_at"),
    mysql_charset="utf8mb4",
)

outbox = sa.Table(
    "outbox",
    metadata,
    sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
    sa.Column("topic", sa.String(255), nullable=False),
    sa.Column("msg_key", sa.VARBINARY(64), nullable=False),
    sa.Column("payload", LONGBLOB, nullable=False),
    sa.Column("created_at", DT, nullable=False),
    sa.Column("claimed_by", sa.String(64), nullable=True),
    sa.Column("lease_until", DT, nullable=True),
    # W3C traceparent of the request that stored the row: the relay's publish span continues its trace.
    sa.Column("traceparent", sa.String(128), nullable=True),
    mysql_charset="utf8mb4",
)

webhook_deliveries = sa.Table(
    "webhook_deliveries",
    metadata,
    sa.Column("submission_id", sa.CHAR(36), primary_key=True),
    sa.Column("url", sa.String(2048), nullable=False),
    sa.Column("shape", sa.String(16), nullable=False),
    sa.Column("state", sa.String(16), nullable=False, server_default="pending"),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("next_attempt_at", DT, nullable=False),
    sa.Column("created_at", DT, nullable=False),
    sa.Column("finished_at", DT, nullable=True),
    sa.Column("last_error", sa.String(512), nullable=True),
    sa.Column("claimed_by", sa.String(64), nullable=True),
    sa.Column("lease_until", DT, nullable=True),
    sa.Index("ix_webhook_deliveries_state_next", "state", "next_attempt_at"),
    mysql_charset="utf8mb4",
)
"""A submission's webhook (``callback_url``): sent once it finished, until delivered or expired."""

pools = sa.Table(
    "pools",
    metadata,
    sa.Column("language", sa.String(32), primary_key=True),
    sa.Column("replicas", sa.Integer, nullable=False),
    sa.Column("min_replicas", sa.Integer, nullable=True),
    sa.Column("max_replicas", sa.Integer, nullable=True),
    sa.Column("autoscale", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("updated_at", DT, nullable=False),
    mysql_charset="utf8mb4",
)

pool_status = sa.Table(
    "pool_status",
    metadata,
    sa.Column("language", sa.String(32), primary_key=True),
    sa.Column("observed", LONGTEXT, nullable=False),
    sa.Column("updated_at", DT, nullable=False),
    mysql_charset="utf8mb4",
)

runtime_versions = sa.Table(
    "runtime_versions",
    metadata,
    sa.Column("language", sa.String(32), primary_key=True),
    sa.Column("image_id", sa.String(100), nullable=False),
    sa.Column("version", sa.String(255), nullable=False),
    sa.Column("updated_at", DT, nullable=False),
    mysql_charset="utf8mb4",
)

dead_letters = sa.Table(
    "dead_letters",
    metadata,
    sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
    sa.Column("dl_partition", sa.Integer, nullable=False),
    sa.Column("dl_offset", sa.BigInteger, nullable=False),
    sa.Column("source_topic", sa.String(255), nullable=True),
    sa.Column("source_partition", sa.Integer, nullable=True),
    sa.Column("source_offset", sa.BigInteger, nullable=True),
    sa.Column("language", sa.String(32), nullable=True),
    sa.Column("msg_key", sa.String(255), nullable=True),
    sa.Column("job_id", sa.CHAR(36), nullable=True),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("worker", sa.String(128), nullable=True),
    sa.Column("value_bytes", sa.Integer, nullable=True),
    sa.Column("preview", sa.String(512), nullable=True),
    sa.Column("received_at", DT, nullable=False),
    sa.Column("result_published", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.UniqueConstraint("dl_partition", "dl_offset", name="uq_dead_letters_position"),
    sa.Index("ix_dead_letters_language_received", "language", "received_at"),
    sa.Index("ix_dead_letters_received", "received_at"),
    sa.Index("ix_dead_letters_job", "job_id"),
    mysql_charset="utf8mb4",
)

idempotency_keys = sa.Table(
    "idempotency_keys",
    metadata,
    sa.Column("key_hash", sa.BINARY(32), primary_key=True),
    sa.Column("fingerprint", sa.BINARY(32), nullable=False),
    sa.Column("submission_id", sa.CHAR(36), nullable=False),
    sa.Column("created_at", DT, nullable=False),
    sa.Index("ix_idempotency_keys_created", "created_at"),
    mysql_charset="utf8mb4",
)

HOST_STATES = ("up", "draining")
"""What an admin may ask of a host: ``up`` (workers are placed on it) or ``draining`` (its workers move
elsewhere, then it stays empty). ``down`` is never stored: it is what the master observes."""

hosts = sa.Table(
    "hosts",
    metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    # As the docker SDK takes it (unix://, tcp://, ssh://); empty: the master's own DOCKER_HOST.
    sa.Column("url", sa.String(512), nullable=False),
    sa.Column("state", sa.String(16), nullable=False, server_default="up"),
    # The active master's last report of the host (schemas.hosts.HostReport as JSON); null until then.
    sa.Column("observed", LONGTEXT, nullable=True),
    sa.Column("updated_at", DT, nullable=False),
    mysql_charset="utf8mb4",
)

api_keys = sa.Table(
    "api_keys",
    metadata,
    sa.Column("id", sa.String(24), primary_key=True),
    sa.Column("name", sa.String(100), nullable=False),
    # HMAC-SHA256 of the whole token under EXECUTIONER_AUTH_SECRET (docs/security.md says why not bcrypt).
    sa.Column("token_hash", sa.BINARY(32), nullable=False),
    sa.Column("scopes", sa.String(255), nullable=False),
    sa.Column("created_at", DT, nullable=False),
    sa.Column("expires_at", DT, nullable=True),
    sa.Column("revoked_at", DT, nullable=True),
    sa.Column("submissions_per_minute", sa.Integer, nullable=True),
    sa.Column("active_jobs", sa.Integer, nullable=True),
    sa.Column("cpu_seconds_per_day", sa.Integer, nullable=True),
    sa.UniqueConstraint("token_hash", name="uq_api_keys_token_hash"),
    mysql_charset="utf8mb4",
)

USAGE_METRICS = ("submissions", "cpu_ms")
"""What ``key_usage`` counts: submissions accepted in a minute, CPU milliseconds used in a (UTC) day."""

key_usage = sa.Table(
    "key_usage",
    metadata,
    sa.Column("key_id", sa.String(24), primary_key=True),
    sa.Column("language", sa.String(32), primary_key=True),
    sa.Column("metric", sa.String(16), primary_key=True),
    sa.Column("window_start", DT, primary_key=True),
    sa.Column("used", sa.BigInteger, nullable=False),
    sa.Index("ix_key_usage_window", "window_start"),
    mysql_charset="utf8mb4",
)

problems = sa.Table(
    "problems",
    metadata,
    sa.Column("slug", sa.String(64), primary_key=True),
    sa.Column("title", sa.String(200), nullable=False),
    sa.Column("statement", LONGTEXT, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("created_at", DT, nullable=False),
    sa.Column("updated_at", DT, nullable=False),
    # Deleted problems keep their versions, so queued jobs and old submissions stay judgeable.
    sa.Column("deleted_at", DT, nullable=True),
    mysql_charset="utf8mb4",
)
"""A stored problem: its text and its current version (``problem_versions``)."""

problem_versions = sa.Table(
    "problem_versions",
    metadata,
    sa.Column("slug", sa.String(64), primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),
    # api.problems.model.Judging as JSON: limits, compare, checker, interactor, stubs, tests by hash.
    sa.Column("judging", LONGTEXT, nullable=False),
    sa.Column("created_at", DT, nullable=False),
    mysql_charset="utf8mb4",
)
"""What judging a problem needs, frozen per version: editing it adds a version."""

test_blobs = sa.Table(
    "test_blobs",
    metadata,
    sa.Column("sha256", sa.CHAR(64), primary_key=True),
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("chunks", sa.Integer, nullable=False),
    sa.Column("created_at", DT, nullable=False),
    mysql_charset="utf8mb4",
)
"""The content-addressed test store: one row per distinct test file, written after all its chunks."""

test_blob_chunks = sa.Table(
    "test_blob_chunks",
    metadata,
    sa.Column("sha256", sa.CHAR(64), primary_key=True),
    sa.Column("chunk", sa.Integer, primary_key=True),
    sa.Column("data", LONGBLOB, nullable=False),
    mysql_charset="utf8mb4",
)
"""A test file's bytes in chunks of ``api.problems.blobs.CHUNK_BYTES`` (below MySQL's packet limit)."""

rejudges = sa.Table(
    "rejudges",
    metadata,
    sa.Column("id", sa.CHAR(36), primary_key=True),
    sa.Column("slug", sa.String(64), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    # The submission ids re-queued, as a JSON list: progress is how many of them finished since.
    sa.Column("submissions", LONGTEXT, nullable=False),
    sa.Column("created_at", DT, nullable=False),
    mysql_charset="utf8mb4",
)
"""A rejudge of a problem's submissions (``POST /api/v1/problems/{slug}/rejudge``)."""
