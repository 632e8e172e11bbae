"""The ``hosts`` table: the Docker engines one cluster's workers run on.

Both the API (admin routes: add, drain, remove) and the master (reads the list, writes what it observed)
use it, and they may import only ``common``, so it is defined here, once; ``api/db/tables.py`` copies it
into the API's metadata. Migration ``0008_hosts`` creates it.
"""

import sqlalchemy as sa
from sqlalchemy.dialects import mysql

_DT = sa.DateTime(timezone=False).with_variant(mysql.DATETIME(fsp=6), "mysql")
_LONGTEXT = sa.Text().with_variant(mysql.LONGTEXT(), "mysql")

HOST_STATES = ("up", "draining")
"""What an admin may ask of a host: ``up`` (workers are placed on it) or ``draining`` (its workers move
elsewhere, then it stays empty). ``down`` is never stored: it is what the master observes."""

hosts = sa.Table(
    "hosts",
    sa.MetaData(),
    sa.Column("name", sa.String(64), primary_key=True),
    # As the docker SDK takes it (unix://, tcp://, ssh://); empty: the master's own DOCKER_HOST.
    sa.Column("url", sa.String(512), nullable=False),
    sa.Column("state", sa.String(16), nullable=False, server_default="up"),
    # The active master's last report of the host (schemas.hosts.HostReport as JSON); null until then.
    sa.Column("observed", _LONGTEXT, nullable=True),
    sa.Column("updated_at", _DT, nullable=False),
    mysql_charset="utf8mb4",
)
