"""The sandbox's command line and how its results are read (pure logic; the real thing runs in
test_hostile_corpus.py)."""

import os
import resource
from pathlib import Path

import pytest

from worker.errors import InternalError
from worker.limits import ProcessLimits
from worker.process import ProcessResult
from worker.sandbox import (
    MASKED_PATHS,
    SANDBOX_UID,
    SandboxConfig,
    SandboxSpec,
    bwrap_argv,
    confine,
    exit_code_from_status,
    present_masked_paths,
    sandboxed_result,
)

pytestmark = pytest.mark.unit

SCRATCH = Path("/tmp/job-1234")
SPEC = SandboxSpec(scratch=SCRATCH, processes=64, status_fd=7)
LIMITS = ProcessLimits(cpu_ms=1000, wall_ms=3000, memory_bytes=1 << 27, output_bytes=1 << 16, processes=64)
STATUS = b'{ "child-pid": 12, "pid-namespace": 4026532257 }\n{ "exit-code": 3 }\n'


def _pairs(argv: list[str], option: str) -> list[tuple[str, ...]]:
    """The arguments of every ``option`` in a bwrap command line (options with two arguments)."""
    return [tuple(argv[i + 1 : i + 3]) for i, arg in enumerate(argv) if arg == option]


def _result(**fields: object) -> ProcessResult:
    base: dict[str, object] = {
        "exit_code": 0,
        "signal": None,
        "cpu_ms": 10,
        "wall_ms": 20,
        "peak_rss_kb": 1000,
        "stdout": b"",
        "stderr": b"",
        "stdout_truncated": False,
        "stderr_truncated": False,
        "wall_exceeded": False,
    }
    return ProcessResult(**{**base, **fields})  # type: ignore[arg-type]


def test_the_command_runs_last_after_the_prelude() -> None:
    argv = bwrap_argv(SPEC, ["python3", "-I", "main.py"])
    assert argv[0] == "bwrap"
    command = argv[argv.index("--") + 1 :]
    assert command[:2] == ["/bin/sh", "-c"]
    assert command[3:] == ["sandbox", "64", "/tmp", "python3", "-I", "main.py"]


def test_every_namespace_is_new_and_none_can_be_made_inside() -> None:
    argv = bwrap_argv(SPEC, ["true"])
    options = argv[: argv.index("--")]
    for flag in ("--unshare-all", "--unshare-user", "--disable-userns", "--die-with-parent", "--new-session"):
        assert flag in options
    assert options[options.index("--uid") + 1] == options[options.index("--gid") + 1] == str(SANDBOX_UID)
    assert options[options.index("--cap-drop") + 1] == "ALL"


def test_the_file_system_is_read_only_but_for_the_scratch_space() -> None:
    argv = bwrap_argv(SPEC, ["true"])
    assert _pairs(argv, "--ro-bind") == [("/", "/")]
    assert _pairs(argv, "--bind") == [(str(SCRATCH), "/tmp"), (str(SCRATCH), "/dev/shm")]
    assert argv[argv.index("--remount-ro") + 1] == "/dev"
    assert argv[argv.index("--proc") + 1] == "/proc"
    assert argv[argv.index("--json-status-fd") + 1] == "7"


def test_the_exit_status_comes_from_the_status_lines() -> None:
    assert exit_code_from_status(STATUS) == 3
    assert exit_code_from_status(b'{ "child-pid": 12 }\n') is None
    assert exit_code_from_status(b"") is None
    assert exit_code_from_status(b'garbage\n{ "exit-code": 0 }\n') == 0


def test_a_command_killed_by_a_signal_is_reported_as_such() -> None:
    result = sandboxed_result(_result(exit_code=137), b'{ "exit-code": 137 }')
    assert (result.exit_code, result.signal) == (None, "SIGKILL")
    result = sandboxed_result(_result(exit_code=152), b'{ "exit-code": 152 }')
    assert (result.exit_code, result.signal) == (None, "SIGXCPU")


def test_an_ordinary_exit_status_stands() -> None:
    result = sandboxed_result(_result(exit_code=3, stdout=b"out"), STATUS)
    assert (result.exit_code, result.signal, result.stdout) == (3, None, b"out")


def test_a_sandbox_killed_by_the_worker_keeps_its_result() -> None:
    killed = _result(exit_code=None, signal="SIGKILL", wall_exceeded=True)
    assert sandboxed_result(killed, b'{ "child-pid": 12 }') == killed


def test_a_sandbox_that_never_started_the_command_is_our_failure() -> None:
    failed = _result(
        exit_code=1, stderr=b"bwrap: Can't mount proc on /newroot/proc: Operation not permitted\n"
    )
    with pytest.raises(InternalError, match="mount proc"):
        sandboxed_result(failed, b'{ "child-pid": 12 }')


def test_without_a_sandbox_the_command_runs_as_it_is() -> None:
    config = SandboxConfig(kind="none")
    with confine(config, ["python3", "main.py"], SCRATCH, LIMITS) as confined:
        assert confined.argv == ["python3", "main.py"]
        assert (confined.cwd, confined.limits, confined.pass_fds) == (SCRATCH, LIMITS, ())
        raw = _result(exit_code=137)
        assert confined.result(raw) is raw
    assert config.workdir_for(SCRATCH) == SCRATCH


def test_in_a_sandbox_the_process_limit_is_applied_inside_only() -> None:
    config = SandboxConfig(kind="bwrap")
    with confine(config, ["./main"], SCRATCH, LIMITS) as confined:
        status_fd, seccomp_fd = confined.pass_fds
        assert confined.argv[confined.argv.index("--json-status-fd") + 1] == str(status_fd)
        assert confined.argv[confined.argv.index("--seccomp") + 1] == str(seccomp_fd)
        assert "--disable-userns" in confined.argv
        assert confined.argv[-3:] == ["64", "/tmp", "./main"]
        # bwrap starts under the worker's own process limit; the job's is set inside its namespace.
        assert confined.limits.processes == resource.getrlimit(resource.RLIMIT_NPROC)[1]
        assert confined.cwd == Path("/")
        os.write(status_fd, STATUS)
        assert confined.result(_result(exit_code=3)).exit_code == 3
    for fd in (status_fd, seccomp_fd):
        with pytest.raises(OSError):
            os.fstat(fd)  # closed with the block
    assert config.workdir_for(SCRATCH) == Path("/tmp")


def test_what_docker_hides_is_hidden_again_inside() -> None:
    spec = SandboxSpec(SCRATCH, 64, 7, masked_dirs=("/proc/acpi",), masked_files=("/proc/keys",))
    argv = bwrap_argv(spec, ["true"])
    assert ("/proc/acpi", "--remount-ro") in _pairs(argv, "--tmpfs")
    assert ("/dev/null", "/proc/keys") in _pairs(argv, "--ro-bind")
    assert argv.index("--proc") < argv.index("/proc/acpi"), "masks go over the sandbox's own /proc"
    dirs, files = present_masked_paths()
    assert set(dirs) | set(files) <= set(MASKED_PATHS)
