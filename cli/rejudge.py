"""``executioner rejudge SLUG``: judge a problem's submissions again against its current version, with a
progress bar until every one of them finished (``--no-wait``: start it and print its id)."""

import argparse
import time

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from cli.client import AdminClient

POLL_S = 1.0
"""How often the progress is asked for."""


def add_parser(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    """The ``rejudge`` command's arguments."""
    rejudge = commands.add_parser("rejudge", help="judge a problem's submissions again (progress bar)")
    rejudge.add_argument("slug")
    rejudge.add_argument("--version", type=int, help="only those judged against this version")
    rejudge.add_argument("--verdict", help="only those with this verdict (wrong_answer, ...)")
    rejudge.add_argument("--no-wait", action="store_true", help="start it, print its id, do not wait")


def run(client: AdminClient, args: argparse.Namespace) -> None:
    """Start the rejudge and follow it to the end."""
    params = {
        name: str(value) for name in ("version", "verdict") if (value := getattr(args, name)) is not None
    }
    progress = client.rejudge(args.slug, params)
    total, version = progress["total"], progress["version"]
    print(f"rejudge {progress['id']}: {total} submissions of {args.slug} against version {version}")
    if args.no_wait:
        return
    columns = (TextColumn(args.slug), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns) as bar:
        task = bar.add_task("rejudge", total=progress["total"], completed=progress["finished"])
        while not progress["done"]:
            time.sleep(POLL_S)
            progress = client.rejudge_progress(args.slug, progress["id"])
            bar.update(task, completed=progress["finished"])
