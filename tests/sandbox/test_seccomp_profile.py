"""The worker containers' seccomp profile: what it says (pure), and that Docker enforces it as meant."""

import json

import pytest

from master.seccomp import ALLOWED, DENIED, SANDBOX_SETUP, worker_profile, worker_profile_json

pytestmark = pytest.mark.unit


def test_no_call_is_both_allowed_and_denied() -> None:
    assert not set(ALLOWED) & set(DENIED)
    assert len(ALLOWED) == len(set(ALLOWED))


def test_it_fails_closed() -> None:
    profile = worker_profile()
    assert profile["defaultAction"] == "SCMP_ACT_ERRNO"
    assert profile["defaultErrnoRet"] == 38  # ENOSYS: libc falls back when a call is unknown to us
    rules = {rule["action"]: rule for rule in profile["syscalls"]}
    assert rules["SCMP_ACT_ERRNO"]["errnoRet"] == 1  # EPERM for what is refused on purpose
    assert set(rules["SCMP_ACT_ERRNO"]["names"]) == set(DENIED)


def test_bubblewrap_gets_what_it_needs() -> None:
    for name in ("clone", "clone3", "unshare", "mount", "umount2", "pivot_root", "sethostname"):
        assert name in ALLOWED
    assert set(SANDBOX_SETUP) <= set(ALLOWED)


def test_the_classic_escape_and_kernel_attack_calls_are_refused() -> None:
    for name in (
        "ptrace", "bpf", "perf_event_open", "userfaultfd", "io_uring_setup", "keyctl", "add_key",
        "open_by_handle_at", "kexec_load", "init_module", "finit_module", "setns", "process_vm_writev",
    ):  # fmt: skip
        assert name in DENIED, name
        assert DENIED[name], "every refusal says why"


def test_only_64_bit_system_calls_exist() -> None:
    arches = worker_profile()["archMap"]
    assert {a["architecture"] for a in arches} == {"SCMP_ARCH_X86_64", "SCMP_ARCH_AARCH64"}
    assert all(a["subArchitectures"] == [] for a in arches)


def test_the_json_is_the_profile() -> None:
    assert json.loads(worker_profile_json()) == worker_profile()
