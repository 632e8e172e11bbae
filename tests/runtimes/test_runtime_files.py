"""The runtime folders themselves (no Docker): each is one runtime.toml (its image recipe included) that
loads, uses only known placeholders, and says how its memory is limited."""

from pathlib import Path

import pytest
from pydantic import ValidationError

from common.runtimes import Runtime, fill_placeholders, load_runtime, load_runtimes
from tests.runtimes.cases import CRASH_SIGNALS, EXTENSIONS, PREBUILT, PROGRAMS, RUNTIMES

pytestmark = pytest.mark.unit


def test_every_runtime_folder_is_in_the_suite_and_nothing_else_is() -> None:
    folders = {path.name for path in RUNTIMES.iterdir() if path.is_dir() and path.name != "__pycache__"}
    assert folders == set(CRASH_SIGNALS)
    # A prebuilt language (Executable) runs C's programs, built on the host.
    assert {path.name for path in PROGRAMS.iterdir() if path.is_dir()} == folders - PREBUILT
    for folder in folders:
        assert sorted(p.name for p in (RUNTIMES / folder).iterdir()) == ["runtime.toml"]
    for folder in folders - PREBUILT:
        assert sorted(PROGRAMS.joinpath(folder).glob(f"*.{EXTENSIONS[folder]}")), folder


def test_runtime_files_load() -> None:
    runtimes = load_runtimes(RUNTIMES)
    assert {rt.id for rt in runtimes.values() if rt.core} == {
        "c", "cpp", "java", "javascript", "go", "rust", "python"
    }  # fmt: skip
    for runtime in runtimes.values():
        assert runtime.selftest.source.strip()
        assert "{" not in " ".join(runtime.version)  # run by the master as is, without placeholders


@pytest.mark.parametrize("language", ["java", "javascript", "go"])
def test_runtimes_that_reserve_address_space_have_no_address_space_limit(language: str) -> None:
    assert not load_runtime(RUNTIMES / language / "runtime.toml").address_space_limit


@pytest.mark.parametrize("language", ["java", "javascript"])
def test_heap_limited_runtimes_get_the_memory_limit_as_their_heap(language: str) -> None:
    runtime = load_runtime(RUNTIMES / language / "runtime.toml")
    assert any("{memory_mb}" in part for part in runtime.run)
    assert runtime.memory_overhead_mb > 0


def test_placeholders_are_filled_and_other_braces_left_alone() -> None:
    values = {"source": "Main.java", "memory_mb": "256"}
    assert fill_placeholders("-Xmx{memory_mb}m", values) == "-Xmx256m"
    assert fill_placeholders("{source}", values) == "Main.java"
    assert fill_placeholders("{}", values) == "{}"


def test_an_unknown_placeholder_is_refused_when_the_file_is_loaded(tmp_path: Path) -> None:
    folder = tmp_path / "broken"
    folder.mkdir()
    (folder / "runtime.toml").write_text(
        'name = "x"\nsource_file = "x"\nrun = ["x", "--heap={memory}"]\nversion = ["x"]\n'
        '[selftest]\nsource = "x"\n'
    )
    with pytest.raises(ValidationError, match="unknown placeholders"):
        load_runtime(folder / "runtime.toml")


def test_address_space_limit_is_opt_in() -> None:
    assert Runtime.model_fields["address_space_limit"].default is False
