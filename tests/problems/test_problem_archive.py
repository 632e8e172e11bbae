"""Test archives (Polygon/DMOJ layout) are read defensively: tests paired in natural order, the
manifest's samples, points, groups and checker taken, and every bad entry refused by name: path tricks,
links, strays, a half test, a zip bomb."""

import io
import json
import stat
import zipfile

import pytest

from api.lib.errors import ApiError
from api.problems.archive import TestArchive, open_archive

pytestmark = pytest.mark.unit


def archive(files: dict[str, bytes], *, link: str | None = None) -> zipfile.ZipFile:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            zf.writestr(name, data)
        if link is not None:
            info = zipfile.ZipInfo(link)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            zf.writestr(info, "/etc/passwd")
    return zipfile.ZipFile(io.BytesIO(buffer.getvalue()))


def opened(files: dict[str, bytes], **kwargs: str) -> TestArchive:
    return open_archive(archive(files, **kwargs))


def refusal(files: dict[str, bytes], **kwargs: str) -> ApiError:
    with pytest.raises(ApiError) as caught:
        found = opened(files, **kwargs)
        for _, stdin, answer in found.tests:
            found.read(stdin)
            found.read(answer)
    assert caught.value.field == "archive"
    return caught.value


def test_tests_pair_in_natural_order_with_the_manifest_and_checker() -> None:
    manifest = {
        "tests": {"1": {"sample": True}, "10": {"points": 5, "group": "big"}},
        "checker": {"language": "cpp", "source": "check.cpp"},
    }
    found = opened(
        {
            "pkg/10.in": b"10\n",
            "pkg/10.out": b"100\n",
            "pkg/2.in": b"2\n",
            "pkg/2.out": b"4\n",
            "pkg/1.in": b"1\n",
            "pkg/1.out": b"1\n",
            "pkg/problem.json": json.dumps(manifest).encode(),
            "pkg/checker/check.cpp": b'#include "testlib.h"\nint main() {}',
            "pkg/checker/testlib.h": b"// testlib",
        }
    )
    assert [name for name, _, _ in found.tests] == ["1", "2", "10"]
    assert [found.read(answer) for _, _, answer in found.tests] == [b"1\n", b"4\n", b"100\n"]
    assert found.manifest.tests["10"].points == 5
    checker = found.program("checker")
    assert checker is not None
    assert checker.language == "cpp"
    assert [file.path for file in checker.files] == ["testlib.h"]
    assert found.program("interactor") is None


@pytest.mark.parametrize(
    ("files", "named"),
    [
        ({"../01.in": b"", "01.out": b""}, "'../01.in'"),
        ({"/01.in": b"", "01.out": b""}, "'/01.in'"),
        ({"01.in": b"", "01.out": b"", "notes.txt": b""}, "'notes.txt'"),
        ({"01.in": b"", "01.out": b"", "02.in": b""}, "test '02' has no 02.out"),
        ({"01.in": b"", "01.out": b"", "problem.json": b'{"tests": {"07": {}}}'}, "['07']"),
        ({"01.in": b"", "01.out": b"", "problem.json": b'{"tests": {"01": {"points": -1}}}'}, "01.points"),
    ],
)
def test_a_bad_entry_is_named(files: dict[str, bytes], named: str) -> None:
    assert named in refusal(files).message


def test_a_link_is_refused() -> None:
    assert "symbolic link" in refusal({"01.in": b"", "01.out": b""}, link="02.in").message


def test_a_zip_bomb_is_stopped_at_the_bytes_it_really_unpacks() -> None:
    bomb = refusal({"01.in": b"\0" * (64 * 1024 * 1024 + 1), "01.out": b""})
    assert bomb.status_code == 413
    assert "'01.in' unpacks to more than" in bomb.message
