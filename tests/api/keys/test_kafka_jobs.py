"""Jobs a batch grader produces straight to Kafka for a submitter key (``key_id``): the intake records
them as that key's, so the key reads them like its HTTP submissions; a job of a revoked or unknown key
is not recorded (the workers dead-letter it: tests/worker/test_worker_keys.py)."""

import uuid
from collections.abc import Awaitable, Callable, Sequence

import orjson
import sqlalchemy as sa
from aiokafka import AIOKafkaProducer

from tests.api.keys.conftest import ADMIN, KEYS, KeysApi, NewKey
from tests.api.support import kafka_bootstrap


async def test_the_intake_records_the_key_of_a_job_and_skips_a_revoked_or_unknown_one(
    keys_api: KeysApi,
    new_key: NewKey,
    group_caught_up: Callable[[str, Sequence[str]], Awaitable[None]],
) -> None:
    owner, revoked = await new_key(), await new_key()
    async with keys_api.client(ADMIN) as admin:
        assert (await admin.delete(f"{KEYS}/{revoked.id}")).status_code == 200
    jobs = {key_id: str(uuid.uuid4()) for key_id in (owner.id, revoked.id, "key_000000000000")}
    topic = keys_api.settings.topics.jobs("python")
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap())
    await producer.start()
    try:
        for key_id, job_id in jobs.items():
            job = {"v": 1, "id": job_id, "language": "python", "source": "print(1)", "key_id": key_id}
            await producer.send_and_wait(topic, orjson.dumps(job), key=job_id.encode())
    finally:
        await producer.stop()
    await group_caught_up(keys_api.settings.topics.intake_group, [topic])

    async with keys_api.engine.connect() as conn:
        rows = await conn.execute(
            sa.text("SELECT id, owner_key, origin FROM submissions WHERE id IN :ids").bindparams(
                sa.bindparam("ids", expanding=True)
            ),
            {"ids": list(jobs.values())},
        )
        recorded = {row.id: (row.owner_key, row.origin) for row in rows}
    assert recorded == {jobs[owner.id]: (owner.id, "kafka")}
    async with keys_api.client(owner.token) as http:
        assert (await http.get(f"/api/v1/submissions/{jobs[owner.id]}")).status_code == 200
    async with keys_api.client(revoked.token) as http:
        assert (await http.get(f"/api/v1/submissions/{jobs[owner.id]}")).status_code == 401
