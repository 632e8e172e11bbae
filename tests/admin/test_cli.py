"""The ``executioner`` command line, run as a process against a running API."""

import asyncio
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa

from devstack.processes import free_port
from tests.admin.conftest import ADMIN_TOKEN, AdminApi

REPO = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str


async def executioner(*args: str, api_url: str, token: str | None = ADMIN_TOKEN) -> Run:
    """Run ``executioner ARGS`` (as ``python -m cli``) with the API and token in its environment."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("EXECUTIONER_")}
    env["EXECUTIONER_API_URL"] = api_url
    if token is not None:
        env["EXECUTIONER_ADMIN_TOKEN"] = token
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "cli", *args, cwd=REPO, env=env, stdout=-1, stderr=-1
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode is not None
    return Run(proc.returncode, out.decode(), err.decode())


async def stored_sizes(api: AdminApi) -> dict[str, tuple[int, int | None, int | None, bool]]:
    async with api.engine.connect() as conn:
        rows = await conn.execute(
            sa.text("SELECT language, replicas, min_replicas, max_replicas, autoscale FROM pools")
        )
        return {r.language: (r.replicas, r.min_replicas, r.max_replicas, bool(r.autoscale)) for r in rows}


async def test_scale_sets_fixed_sizes_of_several_pools(admin_api: AdminApi) -> None:
    done = await executioner("scale", "python=2", "c=0", api_url=admin_api.url)
    assert done.code == 0, done.err
    assert done.out.splitlines() == ["python: 2 worker(s), 0 running now", "c: 0 worker(s), 0 running now"]
    sizes = await stored_sizes(admin_api)
    assert (sizes["python"], sizes["c"]) == ((2, None, None, False), (0, None, None, False))


async def test_autoscale_sets_bounds(admin_api: AdminApi) -> None:
    done = await executioner("autoscale", "python", "--min", "1", "--max", "2", api_url=admin_api.url)
    assert done.code == 0, done.err
    assert done.out.startswith("python: autoscaling between 1 and 2")
    assert (await stored_sizes(admin_api))["python"][1:] == (1, 2, True)


async def test_status_is_a_table_of_every_pool(admin_api: AdminApi) -> None:
    assert (await executioner("scale", "python=1", api_url=admin_api.url)).code == 0
    done = await executioner("status", api_url=admin_api.url)
    assert done.code == 0, done.err
    master, header, *rows = done.out.splitlines()
    assert master == "master: none has reported yet"
    assert header.split()[:4] == ["LANGUAGE", "DESIRED", "RUNNING", "MODE"]
    python = next(r for r in rows if r.startswith("python "))
    assert python.split()[:4] == ["python", "1", "0", "fixed"]
    assert "no master has reported this pool yet" in python


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("scale", "python=-1"), "not LANGUAGE=COUNT"),
        (("scale", "python"), "not LANGUAGE=COUNT"),
        (("autoscale", "python", "--min", "1"), "--max"),
        (("dance",), "invalid choice"),
    ],
)
async def test_bad_usage_exits_2(admin_api: AdminApi, args: tuple[str, ...], words: str) -> None:
    done = await executioner(*args, api_url=admin_api.url)
    assert (done.code, done.out) == (2, "")
    assert words in done.err


async def test_a_refusal_exits_1_with_the_api_s_message(admin_api: AdminApi) -> None:
    done = await executioner("autoscale", "python", "--min", "2", "--max", "1", api_url=admin_api.url)
    assert done.code == 1
    assert "422 validation_error: min (2) must not exceed max (1) (field min)" in done.err
    unknown = await executioner("scale", "cobol=1", api_url=admin_api.url)
    assert unknown.code == 1
    assert "404 not_found" in unknown.err


async def test_a_wrong_token_exits_1_and_no_token_exits_4(admin_api: AdminApi) -> None:
    wrong = await executioner("status", api_url=admin_api.url, token="nope")
    assert wrong.code == 1
    assert "403 forbidden" in wrong.err
    missing = await executioner("status", api_url=admin_api.url, token=None)
    assert missing.code == 4
    assert "EXECUTIONER_ADMIN_TOKEN" in missing.err


async def test_an_unreachable_api_exits_3() -> None:
    done = await executioner("status", api_url=f"http://127.0.0.1:{free_port()}")
    assert done.code == 3
    assert "cannot reach the API" in done.err


async def test_hosts_add_drain_undrain(admin_api: AdminApi) -> None:
    name = f"cli{os.getpid()}"
    added = await executioner("hosts", "add", name, "tcp://b.example:2376", api_url=admin_api.url)
    assert added.code == 0, added.err
    assert (
        added.out.splitlines()[0]
        == f"{name}: added (tcp://b.example:2376); the master connects within a few seconds"
    )
    row = next(line.split() for line in added.out.splitlines() if line.startswith(f"{name} "))
    assert row[:2] == [name, "up"] and "tcp://b.example:2376" in row
    drained = await executioner("drain", name, api_url=admin_api.url)
    assert (drained.code, drained.out) == (0, f"{name}: draining, 0 worker(s) there now\n")
    undrained = await executioner("undrain", name, api_url=admin_api.url)
    assert (undrained.code, undrained.out) == (0, f"{name}: up, 0 worker(s) there now\n")


async def test_a_bad_host_url_is_refused_naming_the_field(admin_api: AdminApi) -> None:
    refused = await executioner("hosts", "add", "b", "ftp://b", api_url=admin_api.url)
    assert refused.code == 1
    assert "422 validation_error: url must start with one of" in refused.err and "(field url)" in refused.err
    unknown = await executioner("drain", "nosuch", api_url=admin_api.url)
    assert unknown.code == 1 and "404 not_found: no host 'nosuch'" in unknown.err
