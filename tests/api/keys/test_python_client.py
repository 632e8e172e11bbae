"""The Python client presents a submitter key as a bearer token; without one a keyed API refuses it."""

import pytest

from executioner import AsyncClient, ExecutionerError
from schemas import Status
from tests.api.keys.conftest import KeysApi, NewKey


async def test_the_client_submits_and_reads_with_its_key(keys_api: KeysApi, new_key: NewKey) -> None:
    key = await new_key()
    async with AsyncClient(keys_api.url, key=key.token) as client:
        accepted = await client.submit("python", "print(1)")
        read = await client.result(accepted.id)
    assert accepted.status is Status.QUEUED and read.id == accepted.id


async def test_without_a_key_the_client_is_refused(keys_api: KeysApi) -> None:
    async with AsyncClient(keys_api.url) as client:
        with pytest.raises(ExecutionerError) as refused:
            await client.submit("python", "print(1)")
    assert refused.value.status == 401
