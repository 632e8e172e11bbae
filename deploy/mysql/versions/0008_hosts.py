"""The Docker engines of the cluster (issue 16): added by the master from EXECUTIONER_DOCKER_HOSTS or by
an admin, drained and removed through the admin API; the master writes what it observes of each.

Revision ID: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"

DT = sa.DateTime(timezone=False).with_variant(sa.dialects.mysql.DATETIME(fsp=6), "mysql")
LONGTEXT = sa.Text().with_variant(sa.dialects.mysql.LONGTEXT(), "mysql")


def upgrade() -> None:
    op.create_table(
        "hosts",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("url", sa.String(512), nullable=False),
        # up or draining: what an admin asked for (down is observed, never stored here)
        sa.Column("state", sa.String(16), nullable=False, server_default="up"),
        sa.Column("observed", LONGTEXT, nullable=True),
        sa.Column("updated_at", DT, nullable=False),
        mysql_charset="utf8mb4",
    )


def downgrade() -> None:
    op.drop_table("hosts")
