"""``debian:bookworm-slim``, which every image here starts from: pulled when a registry is reachable,
otherwise built with ``debootstrap`` from the host's own Debian mirror and ``docker import``-ed under the
same name, so the Dockerfiles work unchanged on both kinds of machine."""

import os
import platform
import re
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import docker
from docker.errors import DockerException, ImageNotFound

from devstack.console import DevstackError, say
from devstack.system import require_command

BASE_REPOSITORY = "debian"
BASE_TAG = "bookworm-slim"
BASE_IMAGE = f"{BASE_REPOSITORY}:{BASE_TAG}"
SUITE = "bookworm"
PULL_TIMEOUT_S = 60
DEBOOTSTRAP_TIMEOUT_S = 1200
MIRROR_VARIABLE = "EXECUTIONER_DEBIAN_MIRROR"


@dataclass(frozen=True)
class AptSource:
    """One ``deb`` source of the host's apt configuration."""

    uri: str
    suites: tuple[str, ...]
    components: tuple[str, ...]


def parse_deb822(text: str) -> list[AptSource]:
    """The ``Types: deb`` entries of a deb822 ``*.sources`` file (``Enabled: no`` ones left out)."""
    sources = []
    for paragraph in re.split(r"\n\s*\n", text):
        fields: dict[str, str] = {}
        key = ""
        for line in paragraph.splitlines():
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            if line[0].isspace() and key:  # a continuation line
                fields[key] += " " + line.strip()
            elif ":" in line:
                key, _, value = line.partition(":")
                key = key.strip().lower()
                fields[key] = value.strip()
        if "deb" not in fields.get("types", "").split() or fields.get("enabled", "yes").lower() == "no":
            continue
        suites, components = (
            tuple(fields.get("suites", "").split()),
            tuple(fields.get("components", "").split()),
        )
        sources += [AptSource(uri, suites, components) for uri in fields.get("uris", "").split()]
    return sources


def parse_one_line(text: str) -> list[AptSource]:
    """The ``deb`` lines of a one-line-style ``sources.list``."""
    sources = []
    for raw in text.splitlines():
        line = re.sub(r"\[[^]]*\]", " ", raw.split("#", 1)[0])  # drop comments and [option=value] blocks
        words = line.split()
        if len(words) >= 3 and words[0] == "deb":
            sources.append(AptSource(words[1], (words[2],), tuple(words[3:])))
    return sources


def read_apt_sources(etc_apt: Path = Path("/etc/apt")) -> list[AptSource]:
    """Every ``deb`` source configured on this host, in apt's reading order."""
    sources: list[AptSource] = []
    main_list = etc_apt / "sources.list"
    if main_list.is_file():
        sources += parse_one_line(main_list.read_text())
    parts = etc_apt / "sources.list.d"
    for path in sorted(parts.glob("*.list")) if parts.is_dir() else []:
        sources += parse_one_line(path.read_text())
    for path in sorted(parts.glob("*.sources")) if parts.is_dir() else []:
        sources += parse_deb822(path.read_text())
    return sources


def choose_mirror(sources: list[AptSource], suite: str = SUITE) -> str | None:
    """The mirror to debootstrap ``suite`` from: a source that serves ``suite`` itself, else a Debian
    archive serving another release (a mirror carries every release), else None."""
    for source in sources:
        if suite in source.suites and "main" in source.components:
            return source.uri.rstrip("/")
    for source in sources:
        releases = [s for s in source.suites if "-" not in s and "/" not in s]  # not -security, -updates
        if releases and "main" in source.components and source.uri.rstrip("/").endswith("/debian"):
            return source.uri.rstrip("/")
    return None


def debian_mirror(environ: Mapping[str, str] = os.environ, etc_apt: Path = Path("/etc/apt")) -> str:
    """``$EXECUTIONER_DEBIAN_MIRROR``, or the Debian mirror this host's apt already uses."""
    if environ.get(MIRROR_VARIABLE):
        return environ[MIRROR_VARIABLE].rstrip("/")
    mirror = choose_mirror(read_apt_sources(etc_apt))
    if mirror is None:
        raise DevstackError(
            f"no Debian mirror in {etc_apt}/sources.list*: set {MIRROR_VARIABLE}=<URL of a Debian mirror>"
        )
    return mirror


def ensure_base_image(engine: docker.DockerClient, cache: Path) -> str:
    """The id of ``debian:bookworm-slim``: present, pulled, or built from a cached debootstrap tarball."""
    try:
        return str(engine.images.get(BASE_IMAGE).id)
    except ImageNotFound:
        pass
    try:
        docker.from_env(timeout=PULL_TIMEOUT_S).images.pull(BASE_REPOSITORY, tag=BASE_TAG)
        say(f"images: pulled {BASE_IMAGE}")
        return str(engine.images.get(BASE_IMAGE).id)
    except (DockerException, OSError) as exc:
        reason = getattr(exc, "explanation", None) or str(exc)
        say(f"images: cannot pull {BASE_IMAGE} ({reason}); building it instead")
    tarball = _rootfs_tarball(cache)
    engine.api.import_image_from_file(
        str(tarball), repository=BASE_REPOSITORY, tag=BASE_TAG, changes=['CMD ["bash"]']
    )
    return str(engine.images.get(BASE_IMAGE).id)


def _rootfs_tarball(cache: Path) -> Path:
    """A minimal Debian root file system as a tar file, made with ``debootstrap`` once per machine."""
    tarball = cache / f"debian-{SUITE}-minbase-{platform.machine()}.tar"
    if tarball.is_file():
        return tarball
    debootstrap = require_command("debootstrap")
    if os.geteuid() != 0:
        raise DevstackError(
            f"{BASE_IMAGE} is missing and cannot be pulled; building it with debootstrap needs root: "
            "run this once as root (sudo), or docker load/pull the image yourself"
        )
    mirror = debian_mirror()
    say(f"images: debootstrap {SUITE} from {mirror} (about a minute, once per machine)")
    rootfs = cache / "rootfs.partial"
    shutil.rmtree(rootfs, ignore_errors=True)
    cache.mkdir(parents=True, exist_ok=True)
    _run([debootstrap, "--variant=minbase", SUITE, str(rootfs), mirror], what="debootstrap")
    for leftovers in ("var/cache/apt/archives", "var/lib/apt/lists"):
        for path in (rootfs / leftovers).glob("*"):
            if path.is_file():
                path.unlink()
    partial = tarball.with_suffix(".partial")
    _run(["tar", "--numeric-owner", "-C", str(rootfs), "-cf", str(partial), "."], what="tar")
    partial.rename(tarball)
    shutil.rmtree(rootfs)
    return tarball


def _run(argv: list[str], *, what: str) -> None:
    done = subprocess.run(argv, capture_output=True, text=True, timeout=DEBOOTSTRAP_TIMEOUT_S, check=False)
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).splitlines()[-15:])
        raise DevstackError(f"{what} failed (exit {done.returncode}):\n{tail}")
