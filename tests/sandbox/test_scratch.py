"""Job scratch space on the real kernel: a size-limited tmpfs in a private mount namespace, gone as a
whole when the job ends, or when the process holding it dies, whatever the job left in it.

Each test runs the scratch code in a fresh Python process, because entering the namespace is for good."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[2]
MIB = 1 << 20

SCRIPT = """
import errno, json, os, sys
from pathlib import Path
from worker.scratch import enter_private_mounts, tmpfs_scratch

root, outside, mode = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
enter_private_mounts(root)
found = {}
with tmpfs_scratch(root, 1 << 20, 64) as scratch:
    found["mounted"] = os.path.ismount(scratch)
    # What a hostile job leaves behind: links out, a locked directory, a full disk.
    (scratch / "out").symlink_to(outside)
    (scratch / "up").symlink_to("..")
    (scratch / "locked").mkdir()
    (scratch / "locked" / "file").write_text("x")
    os.chmod(scratch / "locked", 0)
    os.chmod(scratch, 0)
    try:
        (scratch / "big").write_bytes(b"x" * (2 << 20))
    except OSError as exc:
        found["full"] = errno.errorcode[exc.errno]
    if mode == "crash":
        os._exit(0)
found["left_in_root"] = os.listdir(root)
print(json.dumps(found))
"""


def _run(root: Path, outside: Path, mode: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", SCRIPT, str(root), str(outside), mode],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_a_jobs_scratch_space_is_removed_as_a_whole(tmp_path: Path) -> None:
    root, outside = tmp_path / "scratch", tmp_path / "precious"
    root.mkdir()
    outside.write_text("keep me")
    done = _run(root, outside, "normal")
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    assert found == {"mounted": True, "full": "ENOSPC", "left_in_root": []}
    assert outside.read_text() == "keep me"
    assert list(root.iterdir()) == [], "nothing ever reached the real directory"


def test_nothing_is_left_when_the_process_dies_mid_job(tmp_path: Path) -> None:
    root, outside = tmp_path / "scratch", tmp_path / "precious"
    root.mkdir()
    outside.write_text("keep me")
    done = _run(root, outside, "crash")
    assert done.returncode == 0 and done.stdout == "", done.stderr
    assert list(root.iterdir()) == []
    assert outside.read_text() == "keep me"
