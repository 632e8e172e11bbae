"""With keys on, a submission is its key's: another key cannot read it, its stream or its page, nor
delete it; a share link (a signed, expiring token) opens those three to anyone holding it, for that
submission only."""

from datetime import UTC, datetime, timedelta
from uuid import UUID

import httpx
import sqlalchemy as sa
from aiokafka import AIOKafkaProducer

from api.keys.tokens import share_token
from schemas import encode
from tests.api.keys.conftest import ADMIN, AUTH_SECRET, KeysApi, NewKey
from tests.api.support import eventually, single_run_result

SUBMISSION = {"language": "python", "source": "print(42)"}
READS = ["/api/v1/submissions/{id}", "/api/v1/submissions/{id}/events", "/s/{id}", "/judge0/submissions/{id}"]


async def status(http: httpx.AsyncClient, method: str, path: str) -> int:
    """The status of a request, without reading an event stream's (endless) body."""
    async with http.stream(method, path) as reply:
        return reply.status_code


async def submitted(api: KeysApi, token: str) -> str:
    async with api.client(token) as http:
        reply = await http.post("/api/v1/submissions", json=SUBMISSION)
    assert reply.status_code == 202, reply.text
    return str(reply.json()["id"])


async def test_another_key_cannot_see_a_submission_its_stream_or_its_page(
    keys_api: KeysApi, new_key: NewKey
) -> None:
    alice, bob = await new_key(), await new_key()
    sid = await submitted(keys_api, alice.token)
    async with keys_api.client(bob.token) as http:
        for path in READS:
            assert await status(http, "GET", path.format(id=sid)) == 404, path
        batch = await http.get("/judge0/submissions/batch", params={"tokens": sid})
        assert batch.status_code == 404
        assert (await http.get(f"/api/v1/submissions/{sid}/share")).status_code == 404
        assert (await http.delete(f"/api/v1/submissions/{sid}")).status_code == 404
    for token in (alice.token, ADMIN):
        async with keys_api.client(token) as http:
            for path in READS:
                assert await status(http, "GET", path.format(id=sid)) == 200, (path, token)


async def test_a_share_link_opens_one_submission_until_it_expires(keys_api: KeysApi, new_key: NewKey) -> None:
    alice = await new_key()
    sid, other = await submitted(keys_api, alice.token), await submitted(keys_api, alice.token)
    async with keys_api.client(alice.token) as http:
        shared = (await http.get(f"/api/v1/submissions/{sid}/share")).json()
    url = httpx.URL(shared["url"])
    token = url.params["share"]
    assert url.path == f"/s/{sid}" and datetime.fromisoformat(shared["expires_at"]) > datetime.now(UTC)
    async with keys_api.client() as anyone:
        assert (await anyone.get(shared["url"])).status_code == 200  # the page
        read = await anyone.get(f"/api/v1/submissions/{sid}", params={"share": token})
        assert read.status_code == 200 and read.json()["id"] == sid
        assert await status(anyone, "GET", f"/api/v1/submissions/{sid}/events?share={token}") == 200
        # Only that submission, only reading, only with the exact token.
        assert (await anyone.get(f"/api/v1/submissions/{other}", params={"share": token})).status_code == 403
        tampered = token[:-5] + ("B" if token[-5] == "A" else "A") + token[-4:]
        assert (await anyone.get(f"/s/{sid}", params={"share": tampered})).status_code == 403
        assert (
            await anyone.get(f"/api/v1/submissions/{sid}/share", params={"share": token})
        ).status_code == 401
        assert (await anyone.delete(f"/api/v1/submissions/{sid}", params={"share": token})).status_code == 401
        expired = share_token(AUTH_SECRET, UUID(sid), datetime.now(UTC) - timedelta(seconds=1))
        assert (await anyone.get(f"/api/v1/submissions/{sid}", params={"share": expired})).status_code == 403
        forged = share_token(
            "another-secret-0123456789abcdef0123", UUID(sid), datetime.now(UTC) + timedelta(days=1)
        )
        assert (await anyone.get(f"/s/{sid}", params={"share": forged})).status_code == 403


async def test_the_owner_deletes_a_finished_submission(
    keys_api: KeysApi, new_key: NewKey, producer: AIOKafkaProducer
) -> None:
    alice = await new_key()
    sid = await submitted(keys_api, alice.token)
    async with keys_api.client(alice.token) as http:
        unfinished = await http.delete(f"/api/v1/submissions/{sid}")
        assert unfinished.status_code == 409 and unfinished.json()["error"]["code"] == "not_finished"
        result = single_run_result(UUID(sid))
        await producer.send_and_wait(keys_api.settings.topics.results, encode(result), key=sid.encode())

        async def finished() -> bool | None:
            return (
                True
                if (await http.get(f"/api/v1/submissions/{sid}")).json()["status"] == "finished"
                else None
            )

        await eventually(finished)
        assert (await http.delete(f"/api/v1/submissions/{sid}")).status_code == 204
        assert (await http.get(f"/api/v1/submissions/{sid}")).status_code == 404
        assert (await http.delete(f"/api/v1/submissions/{sid}")).status_code == 404
    async with keys_api.engine.connect() as conn:
        left = await conn.scalar(sa.text("SELECT COUNT(*) FROM submissions WHERE id = :id"), {"id": sid})
    assert left == 0
