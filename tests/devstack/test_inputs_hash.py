"""The image inputs hash decides whether an image is rebuilt: it must change exactly when an input does."""

import pytest

from devstack.images import inputs_hash, runtime_languages
from devstack.profile import repo_root
from devstack.wheels import project_files

pytestmark = pytest.mark.unit

FILES = {"Dockerfile": b"FROM x\n", "runtime.toml": b'name = "Python 3"\n'}
ARGS = {"WORKER_BASE": "executioner/worker-base:latest"}


def test_same_inputs_same_hash_whatever_the_order() -> None:
    reordered = dict(reversed(list(FILES.items())))
    assert inputs_hash(FILES, parent_id="sha256:a", build_args=ARGS) == inputs_hash(
        reordered, parent_id="sha256:a", build_args=ARGS
    )


def test_any_changed_input_changes_the_hash() -> None:
    reference = inputs_hash(FILES, parent_id="sha256:a", build_args=ARGS)
    variants = [
        inputs_hash({**FILES, "runtime.toml": b'name = "Python"\n'}, parent_id="sha256:a", build_args=ARGS),
        inputs_hash({**FILES, "extra.txt": b""}, parent_id="sha256:a", build_args=ARGS),
        inputs_hash({"Dockerfile": FILES["Dockerfile"]}, parent_id="sha256:a", build_args=ARGS),
        inputs_hash(FILES, parent_id="sha256:b", build_args=ARGS),
        inputs_hash(FILES, parent_id="sha256:a", build_args={"WORKER_BASE": "other:latest"}),
    ]
    assert len({reference, *variants}) == len(variants) + 1


def test_file_boundaries_are_part_of_the_hash() -> None:
    # Moving bytes from one file to the next must not collide.
    first = inputs_hash({"a": b"xy", "b": b""}, parent_id="p", build_args={})
    second = inputs_hash({"a": b"x", "b": b"y"}, parent_id="p", build_args={})
    assert first != second


def test_project_inputs_cover_the_packages_but_not_bytecode() -> None:
    files = project_files(repo_root())
    assert "pyproject.toml" in files and "schemas/__init__.py" in files and "worker/Dockerfile" in files
    assert not [name for name in files if "__pycache__" in name or name.endswith(".pyc")]


def test_every_runtime_folder_is_a_language() -> None:
    assert "python" in runtime_languages(repo_root())
