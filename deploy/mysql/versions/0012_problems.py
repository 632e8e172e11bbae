"""Stored problems (issue 18): problems and their versions, the content-addressed test store (chunked
blobs the workers read with their read-only account), rejudges, and the problem version each submission
was judged against.

Revision ID: 0012
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"

DT = sa.DateTime(timezone=False).with_variant(sa.dialects.mysql.DATETIME(fsp=6), "mysql")
LONGTEXT = sa.Text().with_variant(sa.dialects.mysql.LONGTEXT(), "mysql")
LONGBLOB = sa.LargeBinary().with_variant(sa.dialects.mysql.LONGBLOB(), "mysql")


def upgrade() -> None:
    op.create_table(
        "problems",
        sa.Column("slug", sa.String(64), primary_key=True),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("statement", LONGTEXT, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("created_at", DT, nullable=False),
        sa.Column("updated_at", DT, nullable=False),
        sa.Column("deleted_at", DT, nullable=True),
        mysql_charset="utf8mb4",
    )
    op.create_table(
        "problem_versions",
        sa.Column("slug", sa.String(64), primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("judging", LONGTEXT, nullable=False),
        sa.Column("created_at", DT, nullable=False),
        mysql_charset="utf8mb4",
    )
    op.create_table(
        "test_blobs",
        sa.Column("sha256", sa.CHAR(64), primary_key=True),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("chunks", sa.Integer, nullable=False),
        sa.Column("created_at", DT, nullable=False),
        mysql_charset="utf8mb4",
    )
    op.create_table(
        "test_blob_chunks",
        sa.Column("sha256", sa.CHAR(64), primary_key=True),
        sa.Column("chunk", sa.Integer, primary_key=True),
        sa.Column("data", LONGBLOB, nullable=False),
        mysql_charset="utf8mb4",
    )
    op.create_table(
        "rejudges",
        sa.Column("id", sa.CHAR(36), primary_key=True),
        sa.Column("slug", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("submissions", LONGTEXT, nullable=False),
        sa.Column("created_at", DT, nullable=False),
        mysql_charset="utf8mb4",
    )
    op.add_column("submissions", sa.Column("problem_slug", sa.String(64), nullable=True))
    op.add_column("submissions", sa.Column("problem_version", sa.Integer, nullable=True))
    op.create_index("ix_submissions_problem", "submissions", ["problem_slug", "problem_version"])


def downgrade() -> None:
    op.drop_index("ix_submissions_problem", table_name="submissions")
    op.drop_column("submissions", "problem_version")
    op.drop_column("submissions", "problem_slug")
    for table in ("rejudges", "test_blob_chunks", "test_blobs", "problem_versions", "problems"):
        op.drop_table(table)
