"""Every module of the API has its place in the import-linter contract of the API's layers
(pyproject.toml): a module left out would be free to import anything. The worker's contract is
exhaustive by itself (import-linter checks a flat package's modules, not the API's feature folders)."""

import re
import tomllib
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]


def api_layer_entries() -> set[str]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    (contract,) = (
        contract
        for contract in config["tool"]["importlinter"]["contracts"]
        if contract["type"] == "layers" and contract.get("containers") == ["api"]
    )
    return {entry.strip() for layer in contract["layers"] for entry in re.split(r"[|:]", layer)}


def api_modules() -> list[str]:
    """Dotted names below ``api`` of its modules with code (package ``__init__`` files hold none)."""
    files = (path.relative_to(ROOT / "api") for path in (ROOT / "api").rglob("*.py"))
    return sorted(".".join(path.with_suffix("").parts) for path in files if path.name != "__init__.py")


def test_every_api_module_is_in_a_layer() -> None:
    entries = api_layer_entries()
    unplaced = [
        module
        for module in api_modules()
        if not any(module == entry or module.startswith(entry + ".") for entry in entries)
    ]
    assert api_modules() and not unplaced, f"add them to the API's layers in pyproject.toml: {unplaced}"
