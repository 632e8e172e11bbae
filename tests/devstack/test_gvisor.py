"""Registering gVisor with dockerd: the ``daemon.json`` merge and where dockerd reads it (pure parts; the
registration itself runs whenever the test services start, see tests/e2e/test_gvisor.py)."""

from pathlib import Path

import pytest

from devstack.console import DevstackError
from devstack.gvisor import DEFAULT_DAEMON_JSON, config_file, merged_config, runtime_entry

ENTRY = runtime_entry("/usr/bin/runsc")


def test_the_runtime_runs_on_ptrace_with_the_containers_network_namespace() -> None:
    assert ENTRY == {"path": "/usr/bin/runsc", "runtimeArgs": ["--platform=ptrace", "--network=host"]}


def test_the_runtime_is_added_and_every_other_setting_kept() -> None:
    config = {
        "log-level": "warn",
        "data-root": "/srv/docker",
        "runtimes": {"kata": {"path": "/usr/bin/kata-runtime"}},
    }
    merged = merged_config(config, "runsc", ENTRY)
    assert merged == {
        "log-level": "warn",
        "data-root": "/srv/docker",
        "runtimes": {"kata": {"path": "/usr/bin/kata-runtime"}, "runsc": ENTRY},
    }
    assert config["runtimes"] == {"kata": {"path": "/usr/bin/kata-runtime"}}  # not changed in place
    assert merged_config({}, "runsc", ENTRY) == {"runtimes": {"runsc": ENTRY}}


def test_a_runtime_of_that_name_is_never_replaced() -> None:
    theirs = {"runtimes": {"runsc": {"path": "/opt/gvisor/runsc", "runtimeArgs": ["--platform=kvm"]}}}
    assert merged_config(theirs, "runsc", ENTRY) is None


def test_a_malformed_runtimes_key_is_reported_not_overwritten() -> None:
    with pytest.raises(DevstackError, match="'runtimes' is not an object"):
        merged_config({"runtimes": ["runsc"]}, "runsc", ENTRY)


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["/usr/sbin/dockerd"], DEFAULT_DAEMON_JSON),
        (["/usr/sbin/dockerd", "-H", "fd://", "--config-file", "/srv/daemon.json"], Path("/srv/daemon.json")),
        (["dockerd", "--config-file=/srv/other.json", "--debug"], Path("/srv/other.json")),
    ],
)
def test_dockerd_reads_the_config_file_its_command_line_names(argv: list[str], expected: Path) -> None:
    assert config_file(argv) == expected
