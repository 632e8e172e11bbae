"""A problem's tests as a zip archive (the layout Polygon and DMOJ export), read defensively: the archive
comes from an admin's upload but may come from anywhere, so every entry name is checked (no absolute
path, no ``..``, no link, only the names below), and the bytes actually decompressed are counted (not
the sizes the archive claims: a zip bomb lies about them), at most 64 MiB per file and 1 GiB in all.

Layout (docs/problems.md), optionally inside one top folder:

* ``<name>.in`` and ``<name>.out``: one test per name, in natural order (``2`` before ``10``);
* ``problem.json`` (optional): ``{"tests": {"<name>": {"sample": true, "points": 10, "group": "a"}},
  "checker": {"language": "cpp", "source": "check.cpp"}, "interactor": {...}}``;
* ``checker/`` and ``interactor/``: the program's files; ``source`` names its entry point there, every
  other file of the folder (a Polygon package's ``testlib.h``) is compiled with it.
"""

import re
import stat
import zipfile
import zlib
from dataclasses import dataclass, field
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from api.lib.errors import ApiError
from api.problems.model import MAX_PROBLEM_BYTES
from schemas.jobs import MAX_FILES, MAX_TEST_FILE_BYTES, Limits, ProgramSpec, SourceFile, checked_path

FIELD = "archive"
MANIFEST = "problem.json"
MAX_ENTRIES = 20_100
_TEST = re.compile(r"(?P<name>[A-Za-z0-9_-]{1,64})\.(?P<kind>in|out)")
_CHUNK = 1024 * 1024
ProgramKind = Literal["checker", "interactor"]
PROGRAMS: tuple[ProgramKind, ...] = ("checker", "interactor")


def refused(message: str, status: int = 422) -> ApiError:
    """The upload's error (``field``: ``archive``)."""
    return ApiError(status, "invalid_archive", message, FIELD)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TestMeta(_Strict):
    """What the manifest says of one test."""

    __test__ = False

    sample: bool = False
    points: Annotated[int, Field(ge=0, le=1_000_000)] | None = None
    group: Annotated[str, Field(min_length=1, max_length=64)] | None = None


class ProgramEntry(_Strict):
    """A checker or interactor of the manifest: its language and its entry point in its folder."""

    language: Annotated[str, Field(pattern=r"^[a-z0-9_+-]{1,32}$")]
    source: str
    limits: Limits | None = None


class Manifest(_Strict):
    """``problem.json``."""

    tests: dict[str, TestMeta] = Field(default_factory=dict)
    checker: ProgramEntry | None = None
    interactor: ProgramEntry | None = None


@dataclass
class TestArchive:
    """The entries of a valid archive, not yet decompressed (bar the manifest)."""

    __test__ = False

    archive: zipfile.ZipFile
    tests: list[tuple[str, zipfile.ZipInfo, zipfile.ZipInfo]] = field(default_factory=list)
    """(name, input entry, output entry) in natural order."""
    manifest: Manifest = field(default_factory=Manifest)
    programs: dict[str, dict[str, zipfile.ZipInfo]] = field(default_factory=dict)
    """``checker``/``interactor`` → path in its folder → entry."""
    read_bytes: int = 0

    def read(self, info: zipfile.ZipInfo, limit: int = MAX_TEST_FILE_BYTES) -> bytes:
        """The entry's bytes; 413 as soon as they pass ``limit`` or the archive's total passes 1 GiB."""
        data = bytearray()
        try:
            with self.archive.open(info) as entry:
                while chunk := entry.read(_CHUNK):
                    data += chunk
                    if len(data) > limit:
                        raise refused(f"entry {info.filename!r} unpacks to more than {limit} bytes", 413)
                    if self.read_bytes + len(data) > MAX_PROBLEM_BYTES:
                        raise refused(f"the archive unpacks to more than {MAX_PROBLEM_BYTES} bytes", 413)
        except (zipfile.BadZipFile, zlib.error, NotImplementedError, EOFError) as exc:
            raise refused(f"entry {info.filename!r} cannot be unpacked: {exc}") from None
        self.read_bytes += len(data)
        return bytes(data)

    def program(self, kind: ProgramKind) -> ProgramSpec | None:
        """The manifest's checker or interactor with its folder's files, or None."""
        entry = getattr(self.manifest, kind)
        if entry is None:
            return None
        files = self.programs.get(kind, {})
        if entry.source not in files:
            raise refused(f"{MANIFEST}: {kind}.source {entry.source!r} is not a file of {kind}/")
        texts = {path: self.read(info, 1024 * 1024).decode(errors="replace") for path, info in files.items()}
        try:
            return ProgramSpec(
                language=entry.language,
                source=texts.pop(entry.source),
                files=[SourceFile(path=path, content=text) for path, text in texts.items()],
                limits=entry.limits,
            )
        except ValidationError as exc:
            raise refused(f"{MANIFEST}: {kind}: {exc.errors()[0]['msg']}") from None


def _natural(name: str) -> list[int | str]:
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name)]


def open_archive(archive: zipfile.ZipFile) -> TestArchive:
    """Check every entry of ``archive`` and pair the tests; 422 naming the first bad entry."""
    entries = [info for info in archive.infolist() if not info.is_dir()]
    if len(entries) > MAX_ENTRIES:
        raise refused(f"the archive has {len(entries)} files; the limit is {MAX_ENTRIES}")
    tops = {info.filename.split("/")[0] for info in entries if "/" in info.filename}
    prefix = f"{tops.pop()}/" if len(tops) == 1 and all("/" in i.filename for i in entries) else ""
    if prefix in ("checker/", "interactor/"):
        prefix = ""
    found = TestArchive(archive)
    halves: dict[str, dict[str, zipfile.ZipInfo]] = {}
    manifest = None
    for info in entries:
        name = info.filename.removeprefix(prefix)
        if stat.S_ISLNK(info.external_attr >> 16):
            raise refused(f"entry {info.filename!r} is a symbolic link")
        try:
            checked_path(name)
        except ValueError as exc:
            raise refused(f"entry {info.filename!r}: {exc}") from None
        if name == MANIFEST:
            manifest = info
        elif (kind := name.split("/")[0]) in PROGRAMS and "/" in name:
            found.programs.setdefault(kind, {})[name.split("/", 1)[1]] = info
        elif match := _TEST.fullmatch(name):
            halves.setdefault(match["name"], {})[match["kind"]] = info
        else:
            expected = f"<name>.in, <name>.out, {MANIFEST}, checker/ or interactor/"
            raise refused(f"entry {info.filename!r} is not one of {expected}")
    for name in sorted(halves, key=_natural):
        pair = halves[name]
        if "in" not in pair or "out" not in pair:
            missing = "out" if "out" not in pair else "in"
            raise refused(f"test {name!r} has no {name}.{missing}")
        found.tests.append((name, pair["in"], pair["out"]))
    if not found.tests:
        raise refused("the archive holds no test (<name>.in with <name>.out)")
    if any(len(files) > MAX_FILES for files in found.programs.values()):
        raise refused(f"a checker or interactor folder has more than {MAX_FILES} files")
    if manifest is not None:
        try:
            found.manifest = Manifest.model_validate_json(found.read(manifest, 1024 * 1024))
        except ValidationError as exc:
            error = exc.errors()[0]
            where = ".".join(str(part) for part in error["loc"])
            raise refused(f"{MANIFEST}: {where}: {error['msg']}") from None
        unknown = set(found.manifest.tests) - set(halves)
        if unknown:
            raise refused(f"{MANIFEST} names tests the archive lacks: {sorted(unknown)}")
    return found
