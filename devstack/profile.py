"""Profiles: one set of ports and one state directory per use of the stack.

=========  =====  =====  ==================================  ==============
profile    API    MySQL  Kafka host / container / controller  state
=========  =====  =====  ==================================  ==============
``dev``    8000   3307   9092 / 9094 / 9093                  ``.state/dev``
``test``   (any)  13307  19092 / 19094 / 19093               ``.state/test``
=========  =====  =====  ==================================  ==============

Every port can be overridden with ``EXECUTIONER_<PROFILE>_<PORT>``: ``EXECUTIONER_DEV_API_PORT``,
``EXECUTIONER_DEV_MYSQL_PORT``, ``EXECUTIONER_DEV_KAFKA_PORT``, ``EXECUTIONER_DEV_KAFKA_CONTROLLER_PORT``,
``EXECUTIONER_DEV_KAFKA_CONTAINER_PORT`` (and the same with ``TEST``).
"""

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from devstack.console import DevstackError


@dataclass(frozen=True)
class Profile:
    """Where one stack keeps its state and which ports it listens on (all on 127.0.0.1, except the Kafka
    listener for containers, which is on the Docker bridge gateway; MariaDB listens on both)."""

    name: str
    state_dir: Path
    mysql_port: int
    kafka_port: int
    kafka_controller_port: int
    kafka_container_port: int
    api_port: int | None
    """None when the stack does not run the API itself (the tests start their own on a free port)."""

    @property
    def cluster(self) -> str:
        """The ``org.executioner.cluster`` label value of this stack's worker containers."""
        return self.name

    def path(self, *parts: str) -> Path:
        """A path inside the state directory (created on demand by whoever writes there)."""
        return self.state_dir.joinpath(*parts)


@dataclass(frozen=True)
class _Ports:
    mysql_port: int
    kafka_port: int
    kafka_controller_port: int
    kafka_container_port: int
    api_port: int | None


_DEFAULTS = {
    "dev": _Ports(
        mysql_port=3307, kafka_port=9092, kafka_controller_port=9093, kafka_container_port=9094, api_port=8000
    ),
    "test": _Ports(
        mysql_port=13307,
        kafka_port=19092,
        kafka_controller_port=19093,
        kafka_container_port=19094,
        api_port=None,
    ),
}
PROFILES = tuple(_DEFAULTS)


def repo_root() -> Path:
    """The source checkout devstack runs from (the stack is for checkouts, not for installed copies)."""
    root = Path(__file__).resolve().parent.parent
    if not (root / "pyproject.toml").is_file():
        raise DevstackError(f"devstack must run from a source checkout; {root} has no pyproject.toml")
    return root


def cache_dir(environ: Mapping[str, str] = os.environ) -> Path:
    """Downloads shared by every checkout on this machine: ``$XDG_CACHE_HOME/executioner``."""
    base = environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "executioner"


def load_profile(name: str, *, root: Path | None = None, environ: Mapping[str, str] = os.environ) -> Profile:
    """The profile ``name`` with its ports overridden from ``EXECUTIONER_<NAME>_*`` variables."""
    if name not in _DEFAULTS:
        raise DevstackError(f"unknown profile {name!r}; choose one of {', '.join(PROFILES)}")
    defaults = _DEFAULTS[name]

    def port(field: str, default: int | None) -> int | None:
        variable = f"EXECUTIONER_{name.upper()}_{field.upper()}"
        raw = environ.get(variable)
        return _port(variable, raw) if raw else default

    def required_port(field: str) -> int:
        value = port(field, getattr(defaults, field))
        assert value is not None  # only the API port may be unset
        return value

    return Profile(
        name=name,
        state_dir=(root or repo_root()) / ".state" / name,
        mysql_port=required_port("mysql_port"),
        kafka_port=required_port("kafka_port"),
        kafka_controller_port=required_port("kafka_controller_port"),
        kafka_container_port=required_port("kafka_container_port"),
        api_port=port("api_port", defaults.api_port),
    )


def _port(variable: str, raw: str) -> int:
    if not raw.isdigit() or not 0 < int(raw) < 65536:
        raise DevstackError(f"{variable}={raw!r} is not a TCP port number")
    return int(raw)
