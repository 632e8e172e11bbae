"""The worker images, built for real (skipped when their inputs did not change): the runtime image has
the project installed for the worker, the runtime definition, and runs as the unprivileged user."""

import docker
import pytest

from devstack.docker_engine import client
from devstack.images import INPUTS_LABEL, build_images, runtime_image
from devstack.profile import cache_dir, repo_root


@pytest.fixture(scope="module")
def engine() -> docker.DockerClient:
    found = client()
    assert found is not None, "the Docker engine must run (python -m devstack services starts it)"
    return found


def test_python_image_is_current_and_complete(engine: docker.DockerClient) -> None:
    build_images(engine, repo_root(), cache_dir(), ["python"])
    report = build_images(engine, repo_root(), cache_dir(), ["python"])
    assert report.runtime_images == (runtime_image("python"),)
    assert report.built == ()  # a second call with the same inputs builds nothing

    image = engine.images.get(runtime_image("python"))
    assert image.labels[INPUTS_LABEL]
    assert image.attrs["Config"]["User"] == "worker"
    assert "EXECUTIONER_RUNTIME_FILE=/opt/executioner/runtime.toml" in image.attrs["Config"]["Env"]
    assert "EXECUTIONER_LANGUAGE=python" in image.attrs["Config"]["Env"]
    probe = (
        "import os, pathlib, schemas, common.runtimes as r; "
        "print(os.getuid(), r.load_runtime(pathlib.Path(os.environ['EXECUTIONER_RUNTIME_FILE'])).run[0])"
    )
    output = engine.containers.run(
        image.id, ["-c", probe], entrypoint="/opt/executioner/venv/bin/python", remove=True
    )
    assert output.decode().split() == ["10001", "python3"]
