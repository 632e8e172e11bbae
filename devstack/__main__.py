"""``python -m devstack``: the local stack from the command line.

  up        install what is missing, start everything, print where it is; stays in the foreground,
            restarts a process of the stack that exits (with back-off), and Ctrl-C (or SIGTERM, or
            ``down`` from another shell) stops it all again
  down      stop what ``up`` or ``services`` started (the data stays in .state/<profile>/)
  services  only Docker, MariaDB, Kafka and the images; prints their addresses as KEY=VALUE on stdout
  images    only build the images that are out of date

Progress goes to stderr, one line per step with its duration.
"""

import argparse
import os
import signal
import sys
import time
from types import FrameType

from devstack import processes, prometheus, stack
from devstack.console import DevstackError, say, step
from devstack.docker_engine import ensure_engine
from devstack.profile import PROFILES, Profile, cache_dir, load_profile
from devstack.supervisor import Starter, Supervisor

TRY_IT = (
    "curl -s -X POST {api}/api/v1/submissions -H 'content-type: application/json' "
    """-d '{{"language":"python","source":"print(input()[::-1])","stdin":"hello"}}' """
    """| python3 -c 'import json,sys; print(json.load(sys.stdin)["events"])' | xargs curl -sN"""
)

ADMIN_EXAMPLE = (
    "export EXECUTIONER_API_URL={api} EXECUTIONER_ADMIN_TOKEN={token}\n"
    "    .venv/bin/executioner status\n"
    "    .venv/bin/executioner scale python=2\n"
    "    .venv/bin/executioner autoscale python --min 1 --max 4\n"
    "    curl -s -H 'authorization: Bearer {token}' {api}/api/v1/admin/pools"
)


def main(argv: list[str] | None = None) -> int:
    """Run one command; returns the exit status."""
    parser = argparse.ArgumentParser(
        prog="python -m devstack", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("command", choices=("up", "down", "services", "images"))
    parser.add_argument("--profile", choices=PROFILES, default="dev", help="which stack (default: dev)")
    args = parser.parse_args(argv)
    try:
        profile = load_profile(args.profile)
        if args.command == "up":
            return up(profile)
        if args.command == "down":
            stack.stop_stack(profile)
        elif args.command == "services":
            services(profile)
        else:
            images()
    except DevstackError as exc:
        say(f"error: {exc}")
        return 1
    except KeyboardInterrupt:
        say("interrupted")
        return 130
    return 0


def up(profile: Profile) -> int:
    """Start the whole stack, keep it running in the foreground (restarting what exits), stop it all
    when told to."""
    started = time.monotonic()
    # Also SIGINT: a shell that starts us in the background hands us SIGINT ignored.
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
    stack.claim_foreground(profile)
    try:
        services = stack.start_services(profile)
        stack.start_app(profile, services)
        _print_ready(profile, time.monotonic() - started, prometheus.running_url(profile))
        _supervise(profile, services)
        return 0
    except KeyboardInterrupt:
        say("stopping everything")
        return 0
    finally:
        # A second Ctrl-C must not leave half of the stack running.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        stack.stop_services(profile)
        stack.release_foreground(profile)


def services(profile: Profile) -> None:
    """Start the services and print their addresses for tests and CI (``KEY=VALUE`` lines on stdout)."""
    found = stack.start_services(profile)
    lines = [f"{key}={value}" for key, value in found.environment().items()]
    lines.append(f"EXECUTIONER_WORKER_IMAGES={','.join(found.images)}")
    print("\n".join(lines), flush=True)


def images() -> None:
    """Build the images that are out of date (starting the Docker engine if needed)."""
    with step("docker", "connecting to the engine") as current:
        engine, started = ensure_engine(cache_dir())
        current.result = "started dockerd" if started else "running"
    stack.ensure_images(engine)


def _supervise(profile: Profile, services: stack.Services) -> None:
    """Restart any of the stack's processes that we started (API, master; Kafka and MariaDB unless they
    were running already) when it exits, until Ctrl-C or SIGTERM interrupt."""
    starters: dict[str, Starter] = {
        "api": lambda: stack.start_app_process(profile, services, "api"),
        "master": lambda: stack.start_app_process(profile, services, "master"),
        "kafka": lambda: stack.restart_service(profile, "kafka"),
        "mysql": lambda: stack.restart_service(profile, "mysql"),
    }
    ours = {
        name: found
        for name, found in stack.watched_processes(profile).items()
        if processes.is_child(found[0])
    }
    Supervisor(ours, starters).run()


def _print_ready(profile: Profile, elapsed: float, prometheus_url: str | None) -> None:
    api = stack.api_url(profile)
    state = os.path.relpath(profile.state_dir)
    token = stack.admin_token(profile)
    prometheus_line = f"  prometheus {prometheus_url}/\n" if prometheus_url else ""
    say(f"ready in {elapsed:.1f} s")
    print(
        f"\n  API        {api}\n"
        f"  web page   {api}/\n"
        f"{prometheus_line}"
        f"  logs       {state}/logs/\n"
        f"  admin      token {token} (also in {state}/admin-token)\n\n"
        f"  try it from another shell:\n\n    {TRY_IT.format(api=api)}\n\n"
        f"  size the worker pools:\n\n    {ADMIN_EXAMPLE.format(api=api, token=token)}\n\n"
        "  Ctrl-C stops everything (or `make down` from another shell).\n",
        flush=True,
    )


def _interrupt(_signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt


if __name__ == "__main__":
    sys.exit(main())
