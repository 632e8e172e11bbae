"""Render docs/configuration.md from the settings classes of the three processes.

python docs/settings_reference.py          # rewrite docs/configuration.md
python docs/settings_reference.py --check  # exit 1 when it is out of date (a test runs this)
"""

import sys
from enum import Enum
from pathlib import Path

from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings

from api.settings import ApiSettings
from master.settings import MasterSettings
from worker.settings import WorkerSettings

OUT = Path(__file__).with_name("configuration.md")
PROCESSES: list[tuple[str, type[BaseSettings], str]] = [
    ("API", ApiSettings, "`executioner-api`: HTTP API, outbox relay, results recorder, SSE."),
    ("Master", MasterSettings, "`executioner-master`: keeps worker containers per language running."),
    ("Worker", WorkerSettings, "`executioner-worker`: runs inside a runtime image; the master sets most."),
]


def _default(field: FieldInfo) -> str:
    if field.default_factory is not None:
        return "(computed)"
    if field.default is None:
        return "(unset)"
    if isinstance(field.default, Enum):
        return f"`{field.default.value!r}`"
    return f"`{field.default!r}`".replace("|", "\\|")


def _describe(field: FieldInfo) -> str:
    return " ".join((field.description or "").split()).replace("|", "\\|")


def _variable(name: str, field: FieldInfo) -> str:
    # A setting that has a standard variable of its own (OpenTelemetry's) is read from that one.
    alias = field.validation_alias
    return alias if isinstance(alias, str) else f"EXECUTIONER_{name.upper()}"


def render() -> str:
    """The whole page."""
    lines = [
        "# Configuration",
        "",
        "Every process reads one settings object from `EXECUTIONER_*` environment variables, once at",
        "start-up. This page is generated from those classes (`python docs/settings_reference.py`); a test",
        "fails when it is out of date.",
        "",
        "The first five variables of each process are the cluster contract (`common/contract.py`): the",
        "admission limits, the topic prefix and the partition counts, which the API and its workers must",
        "agree on. Every process reads them from the same variables with the same defaults, and the master",
        "hands the values it read to every worker container it starts. So set each of them once, for the",
        "API and the master alike; a worker started by hand (not by a master) needs them too.",
    ]
    for title, cls, summary in PROCESSES:
        lines += ["", f"## {title}", "", summary, "", "| variable | default | meaning |"]
        lines.append("| --- | --- | --- |")
        for name, field in cls.model_fields.items():
            lines.append(f"| `{_variable(name, field)}` | {_default(field)} | {_describe(field)} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    """Entry point; returns the exit code."""
    text = render()
    if "--check" in argv:
        if not OUT.exists() or OUT.read_text() != text:
            print("docs/configuration.md is stale: run python docs/settings_reference.py", file=sys.stderr)
            return 1
        return 0
    OUT.write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
