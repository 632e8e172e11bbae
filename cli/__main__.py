"""``executioner``: see and size the worker pools of an Executioner cluster.

  executioner status                          a table of the pools
  executioner scale python=4 cpp=2            fixed sizes (autoscaling off)
  executioner autoscale python --min 1 --max 8
  executioner hosts                           a table of the Docker hosts
  executioner hosts add NAME URL              another Docker engine (unix://, tcp://, ssh://)
  executioner drain NAME / undrain NAME       move a host's workers away / let it take workers again
  executioner keys create --name grader --scopes submit,read [--expires-at 2027-01-01T00:00:00Z]
  executioner keys list / keys revoke KEY_ID  submitter keys (EXECUTIONER_AUTH=keys)
  executioner rejudge SLUG [--version N] [--verdict V]   a problem's submissions judged again
  executioner grade jobs.jsonl --via kafka --out results.jsonl   (see executioner grade --help)

The API is ``$EXECUTIONER_API_URL`` (default http://127.0.0.1:8000), the token
``$EXECUTIONER_ADMIN_TOKEN``. Exit status: 0 done, 1 the API refused, 2 bad usage,
3 the API is unreachable, 4 no token configured.
"""

import argparse
import sys
from collections.abc import Sequence

from cli import grading, rejudge
from cli.client import AdminClient, CliError
from cli.settings import CliSettings
from cli.table import HOST_COLUMNS, KEY_COLUMNS, host_rows, key_rows, master_line, pool_rows, render_table

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
    _add_keys_parser(commands)
    rejudge.add_parser(commands)
    grading.add_parser(commands, settings)
    return parser


_LIMIT_OPTIONS = ("submissions_per_minute", "active_jobs", "cpu_seconds_per_day")


def _add_keys_parser(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    keys = commands.add_parser("keys", help="create, list and revoke submitter keys")
    key_commands = keys.add_subparsers(dest="key_command", required=True)
    create = key_commands.add_parser("create", help="create a key and print its token (shown once)")
    create.add_argument("--name", required=True)
    create.add_argument("--scopes", required=True, help="comma-separated: submit, read, problems:write")
    create.add_argument("--expires-at", help="ISO 8601 time with a zone, e.g. 2027-01-01T00:00:00Z")
    for option in _LIMIT_OPTIONS:
        create.add_argument(f"--{option.replace('_', '-')}", type=int, help="this key's own limit")
    key_commands.add_parser("list", help="every key (never their tokens)")
    key_commands.add_parser("revoke", help="refuse a key from now on").add_argument("key_id")


def _keys(client: AdminClient, args: argparse.Namespace) -> None:
    if args.key_command == "create":
        limits = {name: value for name in _LIMIT_OPTIONS if (value := getattr(args, name)) is not None}
        body = {"name": args.name, "scopes": [s.strip() for s in args.scopes.split(",") if s.strip()]}
        if args.expires_at:
            body["expires_at"] = args.expires_at
        if limits:
            body["limits"] = limits
        key = client.create_key(body)
        print(f"{key['id']} ({key['name']}): scopes {' '.join(key['scopes'])}")
        print(f"token (shown once, store it now): {key['token']}")
    elif args.key_command == "list":
        print(render_table(key_rows(client.keys()), KEY_COLUMNS))
    else:
        key = client.revoke_key(args.key_id)
        print(f"{key['id']} ({key['name']}): revoked at {key['revoked_at']}")


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
            elif args.command == "keys":
                _keys(client, args)
            elif args.command == "rejudge":
                rejudge.run(client, args)
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
