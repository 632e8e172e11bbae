"""``executioner keys create|list|revoke``, run as a process against an API with keys on: the token it
prints works, the list shows the key without it, and a revoked key is refused."""

import asyncio
import os
import sys
from pathlib import Path

from tests.api.keys.conftest import ADMIN, KeysApi

REPO = Path(__file__).resolve().parents[3]


async def executioner(api: KeysApi, *args: str) -> tuple[int, str, str]:
    """Run ``executioner ARGS`` with the API's URL and admin token; (exit status, stdout, stderr)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("EXECUTIONER_")}
    env |= {"EXECUTIONER_API_URL": api.url, "EXECUTIONER_ADMIN_TOKEN": ADMIN}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "cli", *args, cwd=REPO, env=env, stdout=-1, stderr=-1
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def test_keys_are_created_listed_and_revoked_from_the_command_line(keys_api: KeysApi) -> None:
    code, out, err = await executioner(
        keys_api, "keys", "create", "--name", "cli-grader", "--scopes", "submit,read", "--active-jobs", "7"
    )
    assert code == 0, err
    first, second = out.splitlines()
    key_id = first.split()[0]
    assert first == f"{key_id} (cli-grader): scopes read submit"
    token = second.rsplit(" ", 1)[1]
    assert token.startswith(f"exk_{key_id}_")
    async with keys_api.client(token) as http:
        assert (
            await http.post("/api/v1/submissions", json={"language": "python", "source": "1"})
        ).status_code == 202

    code, out, err = await executioner(keys_api, "keys", "list")
    assert code == 0, err
    row = next(line for line in out.splitlines() if line.startswith(key_id))
    assert "cli-grader" in row and "read,submit" in row and "active_jobs=7" in row and token not in out

    code, out, err = await executioner(keys_api, "keys", "revoke", key_id)
    assert code == 0 and out.startswith(f"{key_id} (cli-grader): revoked at "), err
    async with keys_api.client(token) as http:
        assert (
            await http.post("/api/v1/submissions", json={"language": "python", "source": "1"})
        ).status_code == 401

    code, _out, err = await executioner(keys_api, "keys", "create", "--name", "x", "--scopes", "admin")
    assert code == 1 and "scopes" in err
