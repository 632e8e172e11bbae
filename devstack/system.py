"""The host programs the stack runs, and installing the missing ones (as root on Debian/Ubuntu)."""

import os
import shutil
import subprocess
from collections.abc import Collection
from dataclasses import dataclass

from devstack.console import DevstackError, say

# Daemons and admin tools live in sbin, which a normal user's PATH often lacks.
_SBIN = ("/usr/local/sbin", "/usr/sbin", "/sbin")


@dataclass(frozen=True)
class Requirement:
    """A command the stack runs and the Debian package that provides it."""

    command: str
    package: str
    purpose: str
    essential: bool = True
    """False: only some paths need it, and they say so themselves when it is missing."""


REQUIREMENTS = (
    Requirement("dockerd", "docker.io", "the Docker engine that runs the worker containers"),
    Requirement("mariadbd", "mariadb-server", "the database server"),
    Requirement("mariadb-install-db", "mariadb-server", "creates the database's data directory"),
    Requirement("mariadb", "mariadb-client", "the database's admin client"),
    Requirement("java", "openjdk-17-jre-headless", "runs Apache Kafka"),
    Requirement("mvn", "maven", "fetches Apache Kafka's jars from Maven Central"),
    Requirement(
        "debootstrap", "debootstrap", "builds the base image when no registry works", essential=False
    ),
    Requirement("bwrap", "bubblewrap", "the job sandbox outside containers", essential=False),
    Requirement(
        "docker-compose", "docker-compose", "validates deploy/compose.yml in the tests", essential=False
    ),
    Requirement("chromium", "chromium", "the browser the web page's tests drive", essential=False),
    Requirement("prometheus", "prometheus", "scrapes the cluster in the metrics tests", essential=False),
)


def find_command(name: str) -> str | None:
    """The full path of ``name`` on PATH or in the sbin directories, or None."""
    path = os.pathsep.join([os.environ.get("PATH", ""), *_SBIN])
    return shutil.which(name, path=path)


def require_command(name: str) -> str:
    """The full path of ``name``; fails saying which package provides it."""
    found = find_command(name)
    if found is None:
        package = next((r.package for r in REQUIREMENTS if r.command == name), name)
        raise DevstackError(f"{name} is not installed (Debian/Ubuntu: sudo apt-get install {package})")
    return found


def missing_requirements(skip: Collection[str] = ()) -> list[Requirement]:
    """The requirements whose command is not installed, except the commands in ``skip``."""
    return [r for r in REQUIREMENTS if r.command not in skip and find_command(r.command) is None]


def ensure_installed(skip: Collection[str] = ()) -> list[str]:
    """Install the packages of missing commands when we are root on Debian/Ubuntu; otherwise fail with
    the exact command to run (or only mention it, when just optional ones are missing). Returns the
    packages installed."""
    missing = missing_requirements(skip)
    if not missing:
        return []
    packages = sorted({r.package for r in missing})
    if os.geteuid() != 0 or find_command("apt-get") is None:
        needed = "\n".join(f"  {r.command}: {r.purpose} (package {r.package})" for r in missing)
        advice = f"Debian/Ubuntu: sudo apt-get install -y {' '.join(packages)}"
        if any(r.essential for r in missing):
            raise DevstackError(f"missing programs:\n{needed}\ninstall them ({advice}) and run again")
        say(f"not installed, needed only sometimes:\n{needed}\n({advice})")
        return []
    say(f"installing {' '.join(packages)} with apt-get")
    _apt_get("update")
    _apt_get("install", "-y", "--no-install-recommends", *packages)
    still_missing = missing_requirements(skip)
    if still_missing:
        names = ", ".join(r.command for r in still_missing)
        raise DevstackError(f"apt-get installed {' '.join(packages)} but {names} is still not found")
    return packages


def _apt_get(*args: str) -> None:
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    done = subprocess.run(["apt-get", "-q", *args], env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).splitlines()[-15:])
        raise DevstackError(f"apt-get {' '.join(args)} failed:\n{tail}")
