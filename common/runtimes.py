"""Runtime definitions: one small declarative ``runtime.toml`` per language, in ``runtimes/<id>/``.

Example (``runtimes/python/runtime.toml``)::

    name = "Python 3"
    source_file = "main.py"
    run = ["python3", "main.py"]
    version = ["python3", "--version"]

    [selftest]
    source = "print(input())"

Commands run in the job's scratch directory; ``{source}`` in a command is replaced by ``source_file``.
"""

import tomllib
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

SELFTEST_INPUT = "executioner self-test 42\n"


class SelfTest(BaseModel):
    """An echo program: it must print its stdin back unchanged."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    source: str


class Runtime(BaseModel):
    """How to compile and run one language."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    """Language id (the folder name): used in the API, topic names and image names."""
    name: str
    source_file: str
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
    selftest: SelfTest

    @property
    def compiled(self) -> bool:
        """Whether submissions are compiled before they run."""
        return self.compile is not None


def load_runtime(path: Path) -> Runtime:
    """Load one ``runtime.toml``; the language id is its folder's name."""
    data = tomllib.loads(path.read_text())
    return Runtime.model_validate({"id": path.parent.name, **data})


def load_runtimes(root: Path) -> dict[str, Runtime]:
    """Every runtime under ``root`` (``root/<id>/runtime.toml``), by id."""
    return {rt.id: rt for rt in (load_runtime(p) for p in sorted(root.glob("*/runtime.toml")))}


def default_runtimes_dir() -> Path:
    """``runtimes/`` next to the installed packages (a source checkout or a container image)."""
    return Path(__file__).resolve().parent.parent / "runtimes"
