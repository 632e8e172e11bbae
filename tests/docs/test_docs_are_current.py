"""Generated documentation stays in step with the code it documents."""

import runpy
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_configuration_reference_matches_the_settings_classes() -> None:
    generator = runpy.run_path(str(DOCS / "settings_reference.py"))
    assert generator["OUT"].read_text() == generator["render"](), "run: python docs/settings_reference.py"


@pytest.mark.parametrize("page", ["architecture.md", "kafka-contract.md", "configuration.md"])
def test_readme_links_resolve(page: str) -> None:
    readme = (DOCS.parent / "README.md").read_text()
    assert f"docs/{page}" in readme
    assert (DOCS / page).is_file()
