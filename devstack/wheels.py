"""Wheels for the worker images: the core dependencies for the image's CPython 3.11 on manylinux,
downloaded on the host (image builds cannot reach PyPI) and cached, and the project's own wheel."""

import hashlib
import platform
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

from devstack.console import DevstackError, say

IMAGE_PYTHON = "3.11"  # Debian bookworm's python3


def core_requirements(pyproject: Path) -> list[str]:
    """``[project] dependencies``: all a worker needs (the extras are for the API and the master)."""
    project = tomllib.loads(pyproject.read_text())["project"]
    return [str(requirement) for requirement in project.get("dependencies", [])]


def wheel_packages(pyproject: Path) -> list[str]:
    """The package folders the project wheel contains (``[tool.hatch.build.targets.wheel] packages``)."""
    config = tomllib.loads(pyproject.read_text())
    target = config.get("tool", {}).get("hatch", {}).get("build", {}).get("targets", {}).get("wheel", {})
    return [str(package) for package in target.get("packages", [])]


def platform_tags() -> list[str]:
    """The manylinux platform tags of this machine's architecture (the images run on this machine)."""
    machine = platform.machine()
    return [f"manylinux2014_{machine}", f"manylinux_2_17_{machine}"]


def project_files(repo: Path) -> dict[str, bytes]:
    """Every file that goes into the project wheel, by path relative to ``repo``."""
    pyproject = repo / "pyproject.toml"
    files = {"pyproject.toml": pyproject.read_bytes()}
    readme = repo / "README.md"
    if readme.is_file():
        files["README.md"] = readme.read_bytes()
    for package in wheel_packages(pyproject):
        for path in sorted((repo / package).rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
                files[path.relative_to(repo).as_posix()] = path.read_bytes()
    return files


def fill_dependency_wheels(repo: Path, cache: Path, dest: Path) -> None:
    """Put the core dependency wheels (downloaded once per requirement set) into ``dest``."""
    dest.mkdir(parents=True, exist_ok=True)
    for wheel in _dependency_wheels(repo / "pyproject.toml", cache).glob("*.whl"):
        shutil.copy2(wheel, dest / wheel.name)


def build_project_wheel(repo: Path, dest: Path) -> None:
    """Build the project's own wheel (pure Python, no dependencies) into ``dest``."""
    dest.mkdir(parents=True, exist_ok=True)
    _pip("wheel", "--no-deps", "--wheel-dir", str(dest), str(repo), what="building the project wheel")


def _dependency_wheels(pyproject: Path, cache: Path) -> Path:
    """``<cache>/wheels/<hash of requirements and target>``; downloaded once per requirement set."""
    requirements = core_requirements(pyproject)
    target = ["--python-version", IMAGE_PYTHON, "--implementation", "cp"]
    for tag in platform_tags():
        target += ["--platform", tag]
    key = hashlib.sha256("\n".join(requirements + target).encode()).hexdigest()[:16]
    wheels = cache / "wheels" / key
    if (wheels / ".complete").is_file():
        return wheels
    say(f"images: downloading wheels for {', '.join(requirements)}")
    partial = wheels.with_name(f"{key}.partial")
    shutil.rmtree(partial, ignore_errors=True)
    _pip(
        "download", "--only-binary=:all:", *target, "--dest", str(partial), *requirements,
        what="downloading the worker's dependency wheels",
    )  # fmt: skip
    (partial / ".complete").touch()
    shutil.rmtree(wheels, ignore_errors=True)
    partial.rename(wheels)
    return wheels


def _pip(*args: str, what: str) -> None:
    argv = [sys.executable, "-m", "pip", "--quiet", *args]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=600, check=False)
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).splitlines()[-15:])
        raise DevstackError(f"{what} failed (pip needs PyPI or a configured index):\n{tail}")
