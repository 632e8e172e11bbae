"""``executioner-worker``: run one worker (settings from ``EXECUTIONER_*`` environment variables)."""

import asyncio

from common.lifecycle import configure_logging
from worker.service import serve
from worker.settings import WorkerSettings


def main() -> None:
    """Console-script entry point; exits with the worker's exit code."""
    settings = WorkerSettings()
    configure_logging(settings)
    raise SystemExit(asyncio.run(serve(settings)))


if __name__ == "__main__":
    main()
