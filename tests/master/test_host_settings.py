"""EXECUTIONER_DOCKER_HOSTS: the Docker engines the master places workers on."""

import pytest
from pydantic import ValidationError

from master.settings import MasterSettings, local_host_name

pytestmark = pytest.mark.unit


def test_a_list_of_named_engines(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EXECUTIONER_DOCKER_HOSTS", " a=unix:///run/a.sock, b=ssh://ops@b.example ,")
    assert MasterSettings().hosts == {"a": "unix:///run/a.sock", "b": "ssh://ops@b.example"}


def test_by_default_the_local_engine_named_after_the_machine(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("EXECUTIONER_DOCKER_HOSTS", raising=False)
    monkeypatch.setenv("EXECUTIONER_DOCKER_URL", "unix:///run/x.sock")
    assert MasterSettings().hosts == {local_host_name(): "unix:///run/x.sock"}


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("a", "'a' is not name=url"),
        ("a=", "'a=' is not name=url"),
        ("a=unix:///x,a=unix:///y", "host 'a' is listed twice"),
        ("-a=unix:///x", "host name '-a'"),
        (" , ", "no host listed"),
    ],
)
def test_a_bad_list_is_refused_naming_the_entry(
    monkeypatch: pytest.MonkeyPatch, value: str, message: str
) -> None:
    monkeypatch.setenv("EXECUTIONER_DOCKER_HOSTS", value)
    with pytest.raises(ValidationError, match=message):
        MasterSettings()
