"""Profiles: fixed default ports per profile, each overridable from the environment."""

from pathlib import Path

import pytest

from devstack.console import DevstackError
from devstack.profile import cache_dir, load_profile

pytestmark = pytest.mark.unit


def test_dev_and_test_profiles_have_the_documented_ports(tmp_path: Path) -> None:
    dev = load_profile("dev", root=tmp_path, environ={})
    test = load_profile("test", root=tmp_path, environ={})
    dev_ports = (
        dev.api_port,
        dev.mysql_port,
        dev.kafka_port,
        dev.kafka_container_port,
        dev.kafka_controller_port,
    )
    assert dev_ports == (8000, 3307, 9092, 9094, 9093)
    assert (test.api_port, test.mysql_port, test.kafka_port) == (None, 13307, 19092)
    assert dev.state_dir == tmp_path / ".state" / "dev" and dev.cluster == "dev"


def test_ports_are_overridden_per_profile(tmp_path: Path) -> None:
    environ = {"EXECUTIONER_TEST_KAFKA_PORT": "29092", "EXECUTIONER_DEV_MYSQL_PORT": "3310"}
    assert load_profile("test", root=tmp_path, environ=environ).kafka_port == 29092
    assert load_profile("test", root=tmp_path, environ=environ).mysql_port == 13307
    assert load_profile("dev", root=tmp_path, environ=environ).mysql_port == 3310


@pytest.mark.parametrize("value", ["abc", "0", "70000"])
def test_a_bad_port_is_refused_with_the_variable_name(tmp_path: Path, value: str) -> None:
    with pytest.raises(DevstackError, match="EXECUTIONER_DEV_API_PORT"):
        load_profile("dev", root=tmp_path, environ={"EXECUTIONER_DEV_API_PORT": value})


def test_unknown_profile_is_refused(tmp_path: Path) -> None:
    with pytest.raises(DevstackError, match="unknown profile"):
        load_profile("prod", root=tmp_path, environ={})


def test_cache_honours_xdg_cache_home(tmp_path: Path) -> None:
    assert cache_dir({"XDG_CACHE_HOME": str(tmp_path)}) == tmp_path / "executioner"
