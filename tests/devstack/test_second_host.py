"""The second Docker host of ``EXECUTIONER_DEV_HOSTS=2``: ``make up`` loads the worker images into it before
the master starts, so the master finds them there and spreads the first workers over both hosts."""

from collections.abc import Iterator

import docker
import pytest

from devstack import processes, second_host
from devstack.base_image import BASE_IMAGE
from devstack.docker_engine import client


@pytest.fixture(scope="module")
def host2(tmp_path_factory: pytest.TempPathFactory) -> Iterator[second_host.SecondHost]:
    """An empty second engine, named after a free port so that no other checkout's has its names."""
    host = second_host.SecondHost(processes.free_port(), tmp_path_factory.mktemp("host2"))
    second_host.start(host)
    try:
        yield host
    finally:
        second_host.stop(host)


def test_load_images_copies_what_the_second_engine_lacks_once(host2: second_host.SecondHost) -> None:
    # The base image: always on the main engine, and the smallest one a worker image is made of.
    source = client()
    assert source is not None
    target = docker.DockerClient(base_url=host2.url, timeout=30)
    try:
        with pytest.raises(docker.errors.ImageNotFound):
            target.images.get(BASE_IMAGE)  # a new engine is empty

        assert second_host.load_images(host2, source, [BASE_IMAGE]) == [BASE_IMAGE]
        assert target.images.get(BASE_IMAGE).id == source.images.get(BASE_IMAGE).id

        assert second_host.load_images(host2, source, [BASE_IMAGE]) == []  # same id: not copied again
    finally:
        target.close()
