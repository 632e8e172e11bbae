"""gVisor for Docker: the pinned runsc, built for real into this machine's cache (fast once it is there),
the ``daemon.json`` merge and which existing entries it may replace, and where dockerd reads its config
(the registration itself runs whenever the test services start, see tests/e2e/test_gvisor.py)."""

import subprocess
from pathlib import Path

import pytest

from devstack.console import DevstackError
from devstack.gvisor import (
    DEFAULT_DAEMON_JSON,
    EARLIER_ENTRY,
    GVISOR_VERSION,
    check_runsc,
    config_file,
    ensure_runsc,
    find_go,
    merged_config,
    runsc_path,
    runtime_entry,
    short_version,
    written_by_devstack,
)
from devstack.profile import cache_dir
from devstack.stack import ensure_gvisor

pytestmark = pytest.mark.unit

CACHE = Path("/home/dev/.cache/executioner")
OURS = runtime_entry(str(runsc_path(CACHE)))


def ours(entry: object) -> bool:
    return written_by_devstack(entry, CACHE)


def test_the_pinned_runsc_is_a_static_build_that_reports_its_version() -> None:
    go = find_go()
    assert go is not None, "install Go (https://go.dev/doc/install): devstack builds gVisor's runsc with it"
    runsc = ensure_runsc(cache_dir())
    assert runsc == runsc_path(cache_dir()) == cache_dir() / "gvisor" / GVISOR_VERSION / "runsc"
    check_runsc(go, runsc)  # the same check the build passed: CGO_ENABLED=0, the pinned version
    version = subprocess.run([runsc, "--version"], capture_output=True, text=True, check=True).stdout
    assert version.splitlines()[0] == f"runsc version {GVISOR_VERSION}"


def test_the_console_names_the_version_by_its_commits_date_and_hash() -> None:
    assert short_version("v0.0.0-20260905035102-160fafc42237") == "2026-09-05 160fafc"


def test_the_runtime_runs_on_systrap_and_enforces_the_containers_seccomp_profile() -> None:
    assert OURS == {
        "path": "/home/dev/.cache/executioner/gvisor/" + GVISOR_VERSION + "/runsc",
        "runtimeArgs": ["--platform=systrap", "--oci-seccomp"],
    }


def test_the_runtime_is_added_and_every_other_setting_kept() -> None:
    config = {
        "log-level": "warn",
        "data-root": "/srv/docker",
        "runtimes": {"kata": {"path": "/usr/bin/kata-runtime"}},
    }
    merged = merged_config(config, "runsc", OURS, ours)
    assert merged == {
        "log-level": "warn",
        "data-root": "/srv/docker",
        "runtimes": {"kata": {"path": "/usr/bin/kata-runtime"}, "runsc": OURS},
    }
    assert config["runtimes"] == {"kata": {"path": "/usr/bin/kata-runtime"}}  # not changed in place
    assert merged_config({}, "runsc", OURS, ours) == {"runtimes": {"runsc": OURS}}


def test_an_entry_that_is_ours_already_leaves_the_config_as_it_is() -> None:
    config = {"runtimes": {"runsc": OURS}, "debug": True}
    assert merged_config(config, "runsc", OURS, ours) == config


@pytest.mark.parametrize(
    "earlier",
    [
        EARLIER_ENTRY,  # Debian's runsc, as earlier devstacks registered it
        {"path": "/home/dev/.cache/executioner/gvisor/v0.0.0-20250101000000-0123456789ab/runsc"},
        {"path": str(runsc_path(CACHE)), "runtimeArgs": ["--platform=ptrace"]},
    ],
)
def test_an_entry_a_devstack_wrote_is_replaced(earlier: dict[str, object]) -> None:
    config = {"runtimes": {"runsc": earlier, "kata": {"path": "/usr/bin/kata-runtime"}}}
    assert merged_config(config, "runsc", OURS, ours) == {
        "runtimes": {"runsc": OURS, "kata": {"path": "/usr/bin/kata-runtime"}}
    }


@pytest.mark.parametrize(
    "theirs",
    [
        {"path": "/opt/gvisor/runsc", "runtimeArgs": ["--platform=kvm"]},
        {"path": "/usr/bin/runsc", "runtimeArgs": ["--platform=ptrace"]},  # Debian's, not as we wrote it
        {"path": "/usr/bin/runsc", "runtimeArgs": ["--platform=ptrace", "--network=host", "--debug"]},
        {"path": "/home/dev/.cache/executioner/gvisor-mine/runsc"},  # beside our folder, not in it
        {"path": "/home/dev/.cache/executioner/gvisor/../../bin/runsc"},  # leaves our folder
        {"path": "/home/dev/.cache/executioner/gvisor"},
        {"runtimeArgs": ["--platform=systrap"]},
        "/usr/bin/runsc",
    ],
)
def test_an_entry_a_devstack_did_not_write_is_never_replaced(theirs: object) -> None:
    assert not ours(theirs)
    assert merged_config({"runtimes": {"runsc": theirs}}, "runsc", OURS, ours) is None


def test_a_malformed_runtimes_key_is_reported_not_overwritten() -> None:
    with pytest.raises(DevstackError, match="'runtimes' is not an object"):
        merged_config({"runtimes": ["runsc"]}, "runsc", OURS, ours)


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


def test_make_up_leaves_gvisor_unbuilt_unless_asked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Not cached and not asked for: nothing is built and the engine is not touched (None would fail).
    ensure_gvisor(None, tmp_path, build=False)
    assert "not built (EXECUTIONER_WORKER_RUNTIME=runsc builds it)" in capsys.readouterr().err
    assert not any(tmp_path.iterdir())
