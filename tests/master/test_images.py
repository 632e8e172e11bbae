"""Worker images on a host (master/images.py) with a real Docker engine: an image the master cannot get
to a host is reported with the reason and not copied again on every pass; only a host that comes back or
a new image id makes it try once more."""

import asyncio
import secrets
from collections.abc import AsyncIterator
from typing import Any

import docker
import pytest

from devstack.base_image import BASE_IMAGE
from master.docker_adapter import DockerAdapter
from master.hosts import Engine
from master.images import ImageSync

pytestmark = pytest.mark.integration

LANGUAGE = "sleeper"
ABSENT = f"executioner-absent/image-{secrets.token_hex(4)}:x"
"""An image name the test engine does not hold."""
PASSES = 5


@pytest.fixture
async def engine(cluster: str) -> AsyncIterator[Engine]:
    """A host on the test engine, as the master holds it once connected."""
    host = Engine("far", "", "up", adapter=DockerAdapter(docker.from_env(), cluster, host="far"))
    yield host
    assert host.adapter is not None
    await host.adapter.close()


@pytest.fixture
async def images(cluster: str) -> AsyncIterator[ImageSync]:
    """Copies from the test engine of an image name it does not hold (the master's engine lost the tag):
    every copy fails there, at ``docker save``."""
    reference = DockerAdapter(docker.from_env(), cluster)
    sync = ImageSync(reference, {LANGUAGE: ABSENT})
    yield sync
    await sync.close()
    await reference.close()


def copies_under_way(engine: Engine) -> list[asyncio.Task[Any]]:
    return [t for t in asyncio.all_tasks() if t.get_name() == f"ship-images-{engine.name}" and not t.done()]


async def copy_ends(engine: Engine) -> None:
    (copy,) = copies_under_way(engine)
    await copy


async def test_an_image_that_cannot_be_copied_is_reported_and_not_tried_every_pass(
    engine: Engine, images: ImageSync, docker_client: Any
) -> None:
    wanted = {LANGUAGE: str(docker_client.images.get(BASE_IMAGE).id)}
    languages, problem = await images.ready(engine, wanted)
    assert (languages, problem) == (frozenset(), f"copying {ABSENT}")
    await copy_ends(engine)

    for _ in range(PASSES):  # the next passes report why, and start no copy
        languages, problem = await images.ready(engine, wanted)
        assert languages == frozenset()
        assert problem is not None and problem.startswith(f"{ABSENT} could not be copied: ")
        assert "ImageNotFound" in problem or "NotFound" in problem
        assert copies_under_way(engine) == []

    # Back from down: one more try.
    engine.recovered = True
    assert (await images.ready(engine, wanted))[1] == f"copying {ABSENT}"
    engine.recovered = False
    await copy_ends(engine)
    assert "could not be copied" in str((await images.ready(engine, wanted))[1])
    assert copies_under_way(engine) == []

    # A new image id: one more try too.
    wanted = {LANGUAGE: "sha256:" + "0" * 64}
    assert (await images.ready(engine, wanted))[1] == f"copying {ABSENT}"
    await copy_ends(engine)
    assert copies_under_way(engine) == []
