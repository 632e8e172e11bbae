"""Dead letters: one row per record of the ``dead-letter`` topic, for the admin API.

Revision ID: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"

DT = sa.DateTime(timezone=False).with_variant(sa.dialects.mysql.DATETIME(fsp=6), "mysql")


def upgrade() -> None:
    op.create_table(
        "dead_letters",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        # where the dead letter itself sits on the dead-letter topic: recording it twice is a no-op
        sa.Column("dl_partition", sa.Integer, nullable=False),
        sa.Column("dl_offset", sa.BigInteger, nullable=False),
        # where the rejected record was (from the worker's headers)
        sa.Column("source_topic", sa.String(255), nullable=True),
        sa.Column("source_partition", sa.Integer, nullable=True),
        sa.Column("source_offset", sa.BigInteger, nullable=True),
        # the <language> of a jobs.<language> source topic; null for any other topic
        sa.Column("language", sa.String(32), nullable=True),
        # the record's key as text (bytes that are not UTF-8 escaped), cut to the column
        sa.Column("msg_key", sa.String(255), nullable=True),
        # the job's id when the value is a valid job message (a job workers gave up on)
        sa.Column("job_id", sa.CHAR(36), nullable=True),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("worker", sa.String(128), nullable=True),
        # the size of the original value, and its beginning as text; null when the record had no value
        sa.Column("value_bytes", sa.Integer, nullable=True),
        sa.Column("preview", sa.String(512), nullable=True),
        # the dead-letter record's Kafka timestamp
        sa.Column("received_at", DT, nullable=False),
        sa.UniqueConstraint("dl_partition", "dl_offset", name="uq_dead_letters_position"),
        mysql_charset="utf8mb4",
    )
    # Counts per language and the newest first, with or without a language.
    op.create_index("ix_dead_letters_language_received", "dead_letters", ["language", "received_at"])
    op.create_index("ix_dead_letters_received", "dead_letters", ["received_at"])
    op.create_index("ix_dead_letters_job", "dead_letters", ["job_id"])


def downgrade() -> None:
    op.drop_table("dead_letters")
