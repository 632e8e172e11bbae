"""Which languages a machine builds and tests (``EXECUTIONER_LANGUAGES``), the names a submission may
use for them (aliases), and the facts ``GET /api/v1/languages`` gives of each (no Docker)."""

import uuid
from pathlib import Path

import pytest

from api.languages.controller import DEFAULT_LIMITS, describe
from api.settings import ApiSettings
from api.submissions.requests import SubmissionRules, parse_submission
from common.runtimes import load_runtimes, resolve_language
from devstack.console import DevstackError
from devstack.images import chosen_languages
from schemas.jobs import Limits
from tests.runtimes.cases import RUNTIMES

pytestmark = pytest.mark.unit

REPO = RUNTIMES.parent
CORE = {"c", "cpp", "java", "javascript", "go", "rust", "python"}


def test_a_plain_make_up_builds_the_core_languages_and_all_builds_every_folder() -> None:
    every = {path.parent.name for path in RUNTIMES.glob("*/runtime.toml")}
    assert set(chosen_languages(REPO, None)) == set(chosen_languages(REPO, "core")) == CORE
    assert set(chosen_languages(REPO, "all")) == every
    assert set(chosen_languages(REPO, "extra")) == every - CORE
    assert chosen_languages(REPO, " ruby, c ,") == chosen_languages(REPO, '["ruby", "c"]') == ["c", "ruby"]


def test_an_unknown_language_to_build_is_refused_by_name() -> None:
    with pytest.raises(DevstackError, match="cobol"):
        chosen_languages(REPO, "c,cobol")


def test_every_alias_names_one_runtime() -> None:
    runtimes = load_runtimes(RUNTIMES)
    assert resolve_language(runtimes, "py") == "python"
    assert resolve_language(runtimes, "clang++") == "cpp-clang"
    assert resolve_language(runtimes, "rust") == "rust"
    assert resolve_language(runtimes, "cobol") is None


def test_an_alias_taken_twice_is_refused_when_the_runtimes_load(tmp_path: Path) -> None:
    for name in ("one", "two"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "runtime.toml").write_text(
            f'name = "{name}"\nsource_file = "x"\nrun = ["x"]\nversion = ["x"]\naliases = ["same"]\n'
            '[selftest]\nsource = "x"\n'
        )
    with pytest.raises(ValueError, match="alias 'same' already names 'one'"):
        load_runtimes(tmp_path)


def test_a_submission_under_an_alias_becomes_a_job_of_its_runtime() -> None:
    rules = SubmissionRules.from_settings(ApiSettings(), load_runtimes(RUNTIMES))
    accepted = parse_submission(b'{"language": "py", "source": "print(1)"}', rules, uuid.uuid4())
    assert accepted.job.language == "python"
    assert b'"language":"python"' in accepted.payload


def test_the_languages_endpoint_describes_each_runtime_from_its_file() -> None:
    runtimes = load_runtimes(RUNTIMES)
    java = describe(runtimes["java"], "openjdk 17.0.15 2025-04-15")
    assert java["version"] == "openjdk 17.0.15 2025-04-15"
    assert (java["compiled"], java["source_file"], java["memory_overhead_mb"]) == (True, "Main.java", 64)
    assert (java["judge0_ids"], java["piston"]["language"]) == ([62], "java")
    python = describe(runtimes["python"], None)
    assert (python["compiled"], python["aliases"]) == (False, ["python3", "py"])
    effective = Limits().effective().model_dump()
    assert {name: effective[name] for name in DEFAULT_LIMITS} == DEFAULT_LIMITS
    assert python["max_limits"]["memory_mb"] >= python["default_limits"]["memory_mb"]
