"""``executioner``: see and size the worker pools of an Executioner cluster.

  executioner status                          a table of the pools
  executioner scale python=4 cpp=2            fixed sizes (autoscaling off)
  executioner autoscale python --min 1 --max 8
  executioner hosts                           a table of the Docker hosts
  executioner hosts add NAME URL              another Docker engine (unix://, tcp://, ssh://)
  executioner drain NAME / undrain NAME       move a host's workers away / let it take workers again
  executioner grade jobs.jsonl --via kafka --out results.jsonl   (see executioner grade --help)

The API is ``$EXECUTIONER_API_URL`` (default http://127.0.0.1:8000), the token
``$EXECUTIONER_ADMIN_TOKEN``. Exit status: 0 done, 1 the API refused, 2 bad usage,
3 the API is unreachable, 4 no token configured.
"""

import argparse
import sys
from collections.abc import Sequence

from cli import grading
from cli.client import AdminClient, CliError
from cli.settings import CliSettings
from cli.table import HOST_COLUMNS, host_rows, master_line, pool_rows, render_table

EXIT_USAGE = 2


def _size(text: str) -> tuple[str, int]:
    """``python=4`` → ("python", 4)."""
    language, equals, count = text.partition("=")
    if not equals or not language or not count.isdigit():
        raise argparse.ArgumentTypeError(f"{text!r} is not LANGUAGE=COUNT (e.g. python=4)")
    return language, int(count)


def _parser(settings: CliSettings) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="executioner", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("status", help="show every pool")
    scale = commands.add_parser("scale", help="give pools a fixed size (turns autoscaling off)")
    scale.add_argument("sizes", nargs="+", type=_size, metavar="LANGUAGE=COUNT")
    auto = commands.add_parser("autoscale", help="let the master size a pool from its queue")
    auto.add_argument("language")
    auto.add_argument("--min", type=int, required=True, dest="minimum")
    auto.add_argument("--max", type=int, required=True, dest="maximum")
    hosts = commands.add_parser("hosts", help="show the Docker hosts, or add one")
    host_commands = hosts.add_subparsers(dest="host_command")
    add = host_commands.add_parser("add", help="add a Docker host")
    add.add_argument("name")
    add.add_argument("url")
    for command, text in (("drain", "move a host's workers elsewhere"), ("undrain", "put a host back")):
        commands.add_parser(command, help=text).add_argument("name")
    grading.add_parser(commands, settings)
    return parser


def _hosts(client: AdminClient, args: argparse.Namespace) -> None:
    if args.host_command == "add":
        host = client.add_host(args.name, args.url)
        print(f"{host['name']}: added ({host['url']}); the master connects within a few seconds")
    print(render_table(host_rows(client.hosts()), HOST_COLUMNS))


def _drain(client: AdminClient, name: str, state: str) -> None:
    host = client.set_host_state(name, state)
    workers = sum(host.get("workers", {}).values())
    print(f"{name}: {host['state']}, {workers} worker(s) there now")


def _status(client: AdminClient) -> None:
    view = client.pools()
    print(master_line(view.get("master")))
    print(render_table(pool_rows(view.get("pools", []))))


def _scale(client: AdminClient, sizes: Sequence[tuple[str, int]]) -> None:
    for language, count in sizes:
        pool = client.size_pool(language, {"replicas": count})
        print(f"{language}: {pool['desired']} worker(s), {pool['running']} running now")


def _autoscale(client: AdminClient, language: str, minimum: int, maximum: int) -> None:
    pool = client.size_pool(language, {"min": minimum, "max": maximum})
    print(f"{language}: autoscaling between {pool['min']} and {pool['max']}, {pool['desired']} desired now")


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; returns the exit status."""
    settings = CliSettings()
    args = _parser(settings).parse_args(argv)  # exits with 2 on bad usage
    if args.command == "grade":
        return grading.run(args)
    try:
        with AdminClient(settings) as client:
            if args.command == "status":
                _status(client)
            elif args.command == "scale":
                _scale(client, args.sizes)
            elif args.command == "hosts":
                _hosts(client, args)
            elif args.command in ("drain", "undrain"):
                _drain(client, args.name, "draining" if args.command == "drain" else "up")
            else:
                _autoscale(client, args.language, args.minimum, args.maximum)
    except CliError as exc:
        print(f"executioner: {exc}", file=sys.stderr)
        return exc.exit_code
    return 0


if __name__ == "__main__":
    sys.exit(main())
