"""Write (or, with ``--check``, verify) the JSON Schema files of the wire formats.

python -m schemas.generate          # rewrite schemas/jsonschema/*.json
python -m schemas.generate --check  # exit 1 when a checked-in file differs from the models
"""

import sys
from pathlib import Path
from typing import Any

import orjson
from pydantic import TypeAdapter

from schemas.jobs import JobMessage
from schemas.results import ResultMessage

OUT_DIR = Path(__file__).parent / "jsonschema"


def documents() -> dict[str, dict[str, Any]]:
    """The JSON Schema of every wire format, by file name."""
    return {
        "job.v1.json": JobMessage.model_json_schema(),
        "result.v1.json": TypeAdapter(ResultMessage).json_schema(),
    }


def render(doc: dict[str, Any]) -> bytes:
    """Stable, diff-friendly bytes for one schema document."""
    return orjson.dumps(doc, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n"


def main(argv: list[str]) -> int:
    """Entry point; returns the exit code."""
    check = "--check" in argv
    drift = []
    OUT_DIR.mkdir(exist_ok=True)
    for name, doc in documents().items():
        path = OUT_DIR / name
        if check:
            if not path.exists() or path.read_bytes() != render(doc):
                drift.append(name)
        else:
            path.write_bytes(render(doc))
    if drift:
        print(
            f"JSON Schema out of date: {', '.join(drift)}; run: python -m schemas.generate", file=sys.stderr
        )
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
