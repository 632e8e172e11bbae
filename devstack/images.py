"""The images the workers run in, in three tiers so that editing the code rebuilds only a thin layer:

1. ``executioner/worker-base``: Debian + python3 + bubblewrap + the worker's dependencies
   (``worker/base.Dockerfile``);
2. ``executioner/runtime-<language>``: a toolchain on top of it, from the one Dockerfile template every
   language shares and the ``[image]`` table of ``runtimes/<language>/runtime.toml``
   (devstack/runtime_dockerfile.py);
3. ``executioner/worker-<language>``: the project wheel on top of that (``worker/Dockerfile``), the image
   the master runs.

A build is skipped when the image's ``org.executioner.inputs`` label already equals the hash of what it is
made of: its Dockerfile (for a toolchain, the rendered one), its context files, the host artifacts it
takes (pinned by name and version) and its parent image's id (so a rebuilt parent rebuilds it).
"""

import contextlib
import hashlib
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import docker
from docker.errors import APIError, BuildError, ImageNotFound

from common.runtimes import Runtime, load_runtime, load_runtimes
from devstack.artifacts import fill_artifacts
from devstack.base_image import ensure_base_image
from devstack.console import DevstackError, say
from devstack.runtime_dockerfile import build_artifacts, render_dockerfile
from devstack.wheels import (
    build_project_wheel,
    core_requirements,
    fill_dependency_wheels,
    platform_tags,
    project_files,
)

WORKER_BASE = "executioner/worker-base:latest"
INPUTS_LABEL = "org.executioner.inputs"
LANGUAGE_LABEL = "org.executioner.language"
BUILD_TIMEOUT_S = 1800


def toolchain_image(language: str) -> str:
    """The image with ``language``'s toolchain, without the worker."""
    return f"executioner/runtime-{language}:latest"


def runtime_image(language: str) -> str:
    """The image of the workers for ``language``."""
    return f"executioner/worker-{language}:latest"


def runtime_languages(repo: Path) -> list[str]:
    """Every language of ``runtimes/`` (a folder with a ``runtime.toml``)."""
    return sorted(path.parent.name for path in (repo / "runtimes").glob("*/runtime.toml"))


def chosen_languages(repo: Path, choice: str | None) -> list[str]:
    """The languages ``EXECUTIONER_LANGUAGES`` asks for: unset or ``core``, the core languages
    (``core = true`` in their runtime.toml); ``all``; ``extra``, all but the core ones; or ids, separated
    by commas or as the master's JSON list (``["python", "c"]``)."""
    every = runtime_languages(repo)
    core = [name for name in every if load_runtime(repo / "runtimes" / name / "runtime.toml").core]
    choice = (choice or "core").strip()
    if choice in ("core", "all", "extra"):
        return {"core": core, "all": every, "extra": sorted(set(every) - set(core))}[choice]
    names = choice.strip("[]").replace('"', "").split(",")
    wanted = [language.strip() for language in names if language.strip()]
    unknown = sorted(set(wanted) - set(every))
    if unknown:
        raise DevstackError(
            f"EXECUTIONER_LANGUAGES={choice!r}: no runtimes/ folder for {', '.join(unknown)} "
            "(core, all, extra, or language ids separated by commas)"
        )
    return sorted(set(wanted))


def inputs_hash(files: Mapping[str, bytes], *, parent_id: str, build_args: Mapping[str, str]) -> str:
    """A digest of everything an image is made of; independent of the order ``files`` are listed in."""
    digest = hashlib.sha256()
    for name in sorted(files):
        content = files[name]
        digest.update(f"file {name} {len(content)}\n".encode())
        digest.update(content)
    for key in sorted(build_args):
        digest.update(f"arg {key}={build_args[key]}\n".encode())
    digest.update(f"parent {parent_id}\n".encode())
    return digest.hexdigest()


@dataclass(frozen=True)
class ImagesReport:
    """What :func:`build_images` made sure of."""

    runtime_images: tuple[str, ...]
    built: tuple[str, ...]
    """The images that were out of date and (re)built."""


def build_images(engine: docker.DockerClient, repo: Path, cache: Path, languages: list[str]) -> ImagesReport:
    """Make sure the base, worker-base, and the ``languages``' toolchain and worker images are current.
    Prints one line per build step of every image it (re)builds."""
    runtimes = load_runtimes(repo / "runtimes")
    for language in languages:
        if language not in runtimes:
            raise DevstackError(f"runtimes/{language}/runtime.toml does not exist")
    base_id = ensure_base_image(engine, cache)
    built = [WORKER_BASE] if _build_worker_base(engine, repo, cache, base_id) else []
    worker_base_id = str(engine.images.get(WORKER_BASE).id)
    project = {f"project/{name}": content for name, content in project_files(repo).items()}
    project["Dockerfile"] = (repo / "worker" / "Dockerfile").read_bytes()
    with tempfile.TemporaryDirectory(prefix="executioner-worker-") as tmp:
        worker_context = Path(tmp)
        shutil.copy2(repo / "worker" / "Dockerfile", worker_context / "Dockerfile")
        tags = []
        for language in languages:
            labels = {LANGUAGE_LABEL: language}
            toolchain = toolchain_image(language)
            folder = repo / "runtimes" / language
            # FROM the exact image the inputs name, not a tag another build may move meanwhile (a second
            # checkout building on the same engine once gave a runtime the wrong base under the right label).
            args = {"WORKER_BASE": worker_base_id}
            files = toolchain_inputs(runtimes, language, folder)
            inputs = inputs_hash(files, parent_id=worker_base_id, build_args=args)
            if not _up_to_date(engine, toolchain, inputs):
                with _toolchain_context(runtimes, language, folder, cache) as context:
                    _build(engine, context, toolchain, args, {INPUTS_LABEL: inputs, **labels})
                built.append(toolchain)
            tag = runtime_image(language)
            toolchain_id = str(engine.images.get(toolchain).id)
            args = {"RUNTIME_IMAGE": toolchain_id}
            inputs = inputs_hash(project, parent_id=toolchain_id, build_args=args)
            if not _up_to_date(engine, tag, inputs):
                if not (worker_context / "wheels").is_dir():  # built once, for every language that needs it
                    build_project_wheel(repo, worker_context / "wheels")
                _build(engine, worker_context, tag, args, {INPUTS_LABEL: inputs, **labels})
                built.append(tag)
            tags.append(tag)
    return ImagesReport(tuple(tags), tuple(built))


def _build_worker_base(engine: docker.DockerClient, repo: Path, cache: Path, base_id: str) -> bool:
    """Build ``executioner/worker-base`` if it is out of date; returns whether it was built."""
    dockerfile = repo / "worker" / "base.Dockerfile"
    pyproject = repo / "pyproject.toml"
    files = {"Dockerfile": dockerfile.read_bytes()}
    files["wheel-target"] = "\n".join(core_requirements(pyproject) + platform_tags()).encode()
    args = {"BASE_IMAGE": base_id}  # the exact image, as for the runtimes (build_images)
    inputs = inputs_hash(files, parent_id=base_id, build_args=args)
    if _up_to_date(engine, WORKER_BASE, inputs):
        return False
    with tempfile.TemporaryDirectory(prefix="executioner-worker-base-") as tmp:
        context = Path(tmp)
        shutil.copy2(dockerfile, context / "Dockerfile")
        fill_dependency_wheels(repo, cache, context / "wheels")
        _build(engine, context, WORKER_BASE, args, {INPUTS_LABEL: inputs})
    return True


def toolchain_inputs(runtimes: Mapping[str, Runtime], language: str, folder: Path) -> dict[str, bytes]:
    """What the toolchain image of ``language`` is made of, besides its parent: the folder's files, the
    rendered Dockerfile (template and recipes), and the host artifacts by name and version (so the
    files themselves need not be hashed; an extended runtime's count too)."""
    files = _context_files(folder)
    files["Dockerfile"] = render_dockerfile(runtimes, language).encode()
    files["host-artifacts.json"] = build_artifacts(runtimes, language).model_dump_json().encode()
    return files


@contextlib.contextmanager
def _toolchain_context(
    runtimes: Mapping[str, Runtime], language: str, folder: Path, cache: Path
) -> Iterator[Path]:
    """The build context of a runtime: a copy of its folder with the rendered Dockerfile and the host
    artifacts it takes in ``artifacts/``."""
    with tempfile.TemporaryDirectory(prefix=f"executioner-runtime-{language}-") as tmp:
        context = Path(tmp) / language
        shutil.copytree(folder, context)
        (context / "Dockerfile").write_text(render_dockerfile(runtimes, language))
        fill_artifacts(build_artifacts(runtimes, language), cache, context / "artifacts")
        yield context


def _context_files(context: Path) -> dict[str, bytes]:
    return {
        path.relative_to(context).as_posix(): path.read_bytes()
        for path in sorted(context.rglob("*"))
        if path.is_file() and "__pycache__" not in path.parts
    }


def _up_to_date(engine: docker.DockerClient, tag: str, inputs: str) -> bool:
    try:
        image = engine.images.get(tag)
    except ImageNotFound:
        return False
    return bool(image.labels.get(INPUTS_LABEL) == inputs)


def _build(
    engine: docker.DockerClient, context: Path, tag: str, args: Mapping[str, str], labels: Mapping[str, str]
) -> None:
    """Build ``context`` with the legacy builder, printing each ``Step n/m`` line as it starts."""
    say(f"images: building {tag}")
    replaced = _image_id(engine, tag)
    recent: list[str] = []  # the end of the build output, quoted when the build fails
    try:
        for chunk in engine.api.build(
            path=str(context),
            tag=tag,
            buildargs=dict(args),
            labels=dict(labels),
            rm=True,
            forcerm=True,
            pull=False,
            # The host's network: apt reaches the mirror through it also on an engine whose bridge has no
            # NAT (dockerd --iptables=false, as a second engine on one machine runs).
            network_mode="host",
            decode=True,
            timeout=BUILD_TIMEOUT_S,
        ):
            if "error" in chunk:
                raise BuildError(str(chunk["error"]).strip(), build_log=recent)
            for line in str(chunk.get("stream", "")).splitlines():
                recent = [*recent[-29:], line]
                if line.startswith("Step "):
                    say(f"images: {tag}: {_shorten(line)}")
    except (BuildError, APIError) as exc:
        output = "\n".join(recent)
        raise DevstackError(f"building {tag} failed: {exc}\n{output}") from exc
    # The image this build replaced is now untagged: remove just that one (a prune would also catch the
    # intermediate layers of builds running at the same time, which inherit our labels).
    if replaced is not None and replaced != _image_id(engine, tag):
        with contextlib.suppress(APIError):  # still used by a container or a child image: keep it
            engine.images.remove(replaced)


def _image_id(engine: docker.DockerClient, tag: str) -> str | None:
    try:
        return str(engine.images.get(tag).id)
    except ImageNotFound:
        return None


def _shorten(line: str, width: int = 110) -> str:
    line = " ".join(line.split())
    return line if len(line) <= width else line[: width - 3] + "..."
