"""Versions as the compatible APIs show them: the ``x.y.z`` in a toolchain's version line."""

import re

_SEMVER = re.compile(r"(\d+)\.(\d+)(?:\.(\d+))?")

UNKNOWN_VERSION = "0.0.0"
"""A language the master has not inspected yet (its version line is unknown)."""


def semantic_version(version_line: str | None) -> str:
    """The first ``major.minor[.patch]`` in a version line, as ``x.y.z`` (``g++ (Debian 12.2.0-14)
    12.2.0`` → ``12.2.0``, ``go version go1.19.8 linux/amd64`` → ``1.19.8``); :data:`UNKNOWN_VERSION`
    when there is none."""
    match = _SEMVER.search(version_line or "")
    if match is None:
        return UNKNOWN_VERSION
    major, minor, patch = match.groups()
    return f"{int(major)}.{int(minor)}.{int(patch or 0)}"
