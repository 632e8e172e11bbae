"""The API serves the page, its assets, and what a shared link needs (HTTP level, no browser)."""

import re

import httpx
import pytest

from tests.e2e.test_pipeline import submit

pytestmark = pytest.mark.e2e


async def test_the_page_is_served_at_the_root_and_at_share_links(client: httpx.AsyncClient) -> None:
    for path in ("/", "/s/00000000-0000-0000-0000-000000000000"):
        reply = await client.get(path)
        assert reply.status_code == 200, path
        assert reply.headers["content-type"].startswith("text/html")
        assert "script-src 'self'" in reply.headers["content-security-policy"]
        assert '<select id="language"' in reply.text


@pytest.mark.parametrize(
    ("path", "script"),
    [
        ("/problems", "problem-list.js"),
        ("/problems/any-slug", "problem.js"),
        ("/admin/problems/new", "admin-problem.js"),
    ],
)
async def test_the_problem_pages_are_served_with_their_script_only(
    client: httpx.AsyncClient, path: str, script: str
) -> None:
    reply = await client.get(path)
    assert reply.status_code == 200, path
    assert reply.headers["content-type"].startswith("text/html")
    assert "script-src 'self';" in reply.headers["content-security-policy"]
    # One script, the page's bundle, by URL: no inline script for the CSP to have to allow.
    assert re.findall(r"<script[^>]*>", reply.text) == [
        f'<script type="module" src="/static/build/{script}?v={reply.text.split("?v=")[1][:16]}">'
    ]
    asset = await client.get(f"/static/build/{script}")
    assert asset.status_code == 200, f"{script}: {asset.status_code} (is the bundle built? `make web`)"
    assert "javascript" in asset.headers["content-type"]


async def test_the_assets_the_page_names_are_served(client: httpx.AsyncClient) -> None:
    page = (await client.get("/")).text
    for asset in ("/static/app.css", "/static/build/main.js"):
        assert f'"{asset}?v=' in page
        reply = await client.get(asset)
        assert reply.status_code == 200, f"{asset}: {reply.status_code} (is the bundle built? `make web`)"
        assert "max-age=86400" in reply.headers["cache-control"]
    assert "javascript" in (await client.get("/static/build/main.js")).headers["content-type"]


async def test_get_returns_what_the_submission_was_sent_with(client: httpx.AsyncClient) -> None:
    tests = [{"stdin": "1\n", "expected_output": "1\n"}, {"stdin": "", "expected_output": "x"}]
    accepted = await submit(client, language="python", source="print(input())", tests=tests, compare="exact")

    view = (await client.get(f"/api/v1/submissions/{accepted['id']}")).json()
    assert view["submitted"] == {
        "source": "print(input())",
        "stdin": "",
        "tests": tests,
        "compare": "exact",
        "stop_on_first_failure": False,
        "args": [],
        "compiler_options": [],
        "files": [],
        "redirect_stderr_to_stdout": False,
        "runs": 1,
    }
