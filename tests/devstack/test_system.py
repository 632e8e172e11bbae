"""Missing host programs: installed as root on Debian/Ubuntu, otherwise named with the exact package."""

import os

import pytest

from devstack import system
from devstack.console import DevstackError

pytestmark = pytest.mark.unit


def pretend(monkeypatch: pytest.MonkeyPatch, *, missing: set[str], root: bool) -> None:
    monkeypatch.setattr(system, "find_command", lambda name: None if name in missing else f"/usr/bin/{name}")
    monkeypatch.setattr(os, "geteuid", lambda: 0 if root else 1000)


def test_nothing_missing_installs_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    pretend(monkeypatch, missing=set(), root=True)
    assert system.ensure_installed() == []


def test_a_user_is_told_the_packages_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    pretend(monkeypatch, missing={"mariadbd", "mariadb-install-db", "java"}, root=False)
    with pytest.raises(DevstackError) as failure:
        system.ensure_installed()
    assert "sudo apt-get install -y mariadb-server openjdk-17-jre-headless" in str(failure.value)


def test_only_optional_programs_missing_is_not_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    pretend(monkeypatch, missing={"debootstrap", "bwrap"}, root=False)
    assert system.ensure_installed() == []


def test_skipped_commands_are_not_required(monkeypatch: pytest.MonkeyPatch) -> None:
    pretend(monkeypatch, missing={"dockerd"}, root=False)
    assert system.ensure_installed(skip=("dockerd",)) == []
