"""Every Docker image the tests and benchmarks name is one that a step of this repository produces.

A test that uses an image only an old machine has passes there and fails on every fresh machine (the
master tests once tagged ``executioner-test/base:bookworm``, which nothing built). This reads the test and
benchmark code as text (pure: no Docker) and checks each image reference against what devstack builds
(:mod:`devstack.images`, :mod:`devstack.base_image`) and what the code itself creates with ``.tag()``.
"""

import ast
import re
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

from devstack.base_image import BASE_IMAGE
from devstack.images import WORKER_BASE, runtime_image, runtime_languages, toolchain_image

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[2]
SCANNED = ("tests", "bench")
NOT_SCANNED = (Path(__file__).resolve(), REPO / "tests" / "deploy")
"""This file (its cases name unbuilt images on purpose) and the tests of deploy/, which read the images an
ordinary Docker host pulls for the compose file; they run none."""
NEVER_BUILT = "executioner-absent/"
"""The repository a test names when it needs an image that no engine holds (and none may build)."""
PLACEHOLDER = "\x00"
"""Stands for a formatted value (an f-string's ``{...}`` or a ``str.format`` field) while matching."""
# Repositories we could mean: ours, and the Docker Hub images a test might reach for. Other strings with a
# colon (``host:port``, ``sha256:…``) are not image references.
_OURS = re.compile(r"executioner[a-z0-9-]*/[a-z0-9._\x00-]+(?::[A-Za-z0-9_.\x00-]+)?")
_HUB = re.compile(r"(?:debian|ubuntu|alpine|busybox|python|node|golang|mariadb|mysql):[\w.\x00-]+")


def _template(node: ast.expr) -> str | None:
    """A string constant or f-string as text, formatted values replaced by :data:`PLACEHOLDER`."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return re.sub(r"\{[^{}]*\}", PLACEHOLDER, node.value)
    if isinstance(node, ast.JoinedStr):
        parts = [_template(part) if isinstance(part, ast.Constant) else PLACEHOLDER for part in node.values]
        return "".join(part or "" for part in parts)
    return None


def _pattern(image: str) -> re.Pattern[str]:
    """A regular expression matching every instantiation of ``image`` (a template)."""
    return re.compile(".+".join(re.escape(part) for part in image.split(PLACEHOLDER)))


def _is_image(text: str) -> bool:
    return bool(_OURS.fullmatch(text) or _HUB.fullmatch(text))


def _with_tag(image: str) -> str:
    return image if ":" in image.rsplit("/", 1)[-1] else f"{image}:latest"


def image_references(tree: ast.AST) -> Iterator[tuple[int, str]]:
    """(line, image template) of every string in ``tree`` that names a Docker image."""
    parts = {id(value) for node in ast.walk(tree) if isinstance(node, ast.JoinedStr) for value in node.values}
    for node in ast.walk(tree):
        if isinstance(node, ast.expr) and id(node) not in parts:
            text = _template(node)
            if text is not None and _is_image(text):
                yield node.lineno, _with_tag(text)


def tagged_images(tree: ast.AST) -> Iterator[str]:
    """Images the code creates itself: ``image.tag(repository, tag)``."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "tag":
            repository = _template(node.args[0]) if node.args else None
            if repository is not None:
                tag = _template(node.args[1]) if len(node.args) > 1 else "latest"
                yield f"{repository}:{tag if tag is not None else PLACEHOLDER}"


def produced_images() -> set[str]:
    """What devstack builds or provides for the tests."""
    languages = runtime_languages(REPO)
    return {
        BASE_IMAGE,
        WORKER_BASE,
        *(toolchain_image(language) for language in languages),
        *(runtime_image(language) for language in languages),
    }


def _sources() -> list[Path]:
    found = (path for folder in SCANNED for path in (REPO / folder).rglob("*.py"))
    return sorted(path for path in found if not any(path.is_relative_to(skip) for skip in NOT_SCANNED))


def _instance(template: str) -> str:
    return template.replace(PLACEHOLDER, "x")


def unproduced_references(trees: Mapping[str, ast.AST]) -> list[str]:
    """``name:line: image`` for each image reference in ``trees`` (by file name) that nothing produces."""
    known = produced_images() | {image for tree in trees.values() for image in tagged_images(tree)}
    return [
        f"{name}:{line}: {image.replace(PLACEHOLDER, '{…}')}"
        for name, tree in trees.items()
        for line, image in image_references(tree)
        if not image.startswith(NEVER_BUILT) and not any(_may_be(image, other) for other in known)
    ]


def _may_be(one: str, other: str) -> bool:
    """Whether two image templates can name the same image (either one's instance fits the other)."""
    return bool(_pattern(one).fullmatch(_instance(other)) or _pattern(other).fullmatch(_instance(one)))


def test_every_image_the_tests_name_is_built_by_the_repository() -> None:
    trees = {str(path.relative_to(REPO)): ast.parse(path.read_text(), str(path)) for path in _sources()}
    assert unproduced_references(trees) == []


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ('IMAGE = "executioner-test/base:bookworm"', ["executioner-test/base:bookworm"]),
        ('client.images.get("debian:trixie")', ["debian:trixie"]),
        ('run(f"executioner/runner-{language}:{tag}")', ["executioner/runner-{…}:{…}"]),
        ('IMAGE = "executioner/worker-{language}:latest"', []),
        ('IMAGE = "debian:bookworm-slim"', []),
        ('base.tag(f"executioner-test/w-{name}", tag); use(f"executioner-test/w-{{language}}:{tag}")', []),
        ('BOOT = "kafka.invalid:9092"; URL = "127.0.0.1:3306"; DIGEST = "sha256:abc"', []),
    ],
)
def test_the_check_finds_images_nothing_builds(code: str, expected: list[str]) -> None:
    found = unproduced_references({"case.py": ast.parse(code)})
    assert [entry.split(": ", 1)[1] for entry in found] == expected
