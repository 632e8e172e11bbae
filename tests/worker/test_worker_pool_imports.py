"""A pool process runs jobs and nothing else: the forkserver that forks pool processes preloads
``worker.pool_process`` (worker/pool.py), and that must not bring in a Kafka or MySQL client. The
import-linter contract says the same of the source; this checks what a fresh interpreter really loads."""

import subprocess
import sys

import pytest

pytestmark = pytest.mark.unit

CLIENTS = ("aiokafka", "asyncmy", "sqlalchemy")


def test_a_pool_process_loads_no_kafka_or_mysql_client() -> None:
    probe = (
        "import sys, worker.pool_process; "
        f"print(sorted({{name.partition('.')[0] for name in sys.modules}} & {set(CLIENTS)!r}))"
    )
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert loaded.stdout.strip() == "[]", loaded.stdout + loaded.stderr
