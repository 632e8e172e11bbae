"""The problem pages as a person uses them, by the accessible names of their controls, and the problems
they show, created through the API as an admin would."""

import io
import secrets
import zipfile
from dataclasses import dataclass
from typing import Any

import httpx
from playwright.async_api import Locator, Page

from tests.web.editor_page import LiveRunPage

ADMIN_TOKEN = "test-admin-token"  # tests/fixtures/cluster.py gives every cluster it
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def new_slug() -> str:
    """A slug no other test uses (the cluster's database is shared by the session)."""
    return f"web-{secrets.token_hex(4)}"


async def create_problem(api_url: str, slug: str, **fields: Any) -> dict[str, Any]:
    """Create problem ``slug`` through the API (a test of A + B unless ``fields`` say otherwise)."""
    body = {
        "slug": slug,
        "title": f"Problem {slug}",
        "tests": [{"input": "1 2\n", "expected_output": "3\n", "sample": True}],
        # Generous: the judging is not what these tests are about, and CI's machine is loaded.
        "limits": {"time_ms": 5000, "wall_ms": 30000},
        **fields,
    }
    async with httpx.AsyncClient(base_url=api_url, headers=ADMIN, timeout=60) as http:
        reply = await http.post("/api/v1/problems", json=body)
    assert reply.status_code == 201, reply.text
    created: dict[str, Any] = reply.json()
    return created


def zip_of(files: dict[str, str]) -> bytes:
    """A zip archive holding ``files`` (name → text)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return buffer.getvalue()


@dataclass
class ProblemPage(LiveRunPage):
    """``/problems/<slug>`` in one browser tab."""

    @classmethod
    async def open(cls, page: Page, base_url: str, slug: str) -> "ProblemPage":
        """Load the problem's page and wait until it is ready."""
        await page.goto(f"{base_url}/problems/{slug}")
        opened = cls(page)
        await opened.ready()
        return opened

    @property
    def title(self) -> Locator:
        return self.page.get_by_role("heading", level=2).first

    @property
    def statement(self) -> Locator:
        return self.page.get_by_role("article", name="Statement")

    @property
    def submit_button(self) -> Locator:
        return self.page.get_by_role("button", name="Submit")

    @property
    def score(self) -> Locator:
        return self.page.locator("#score")

    def sample(self, what: str, number: int) -> Locator:
        """A sample's ``Input`` or ``Expected output`` box (``number`` from 1)."""
        return self.page.get_by_label(f"{what} of sample {number}")
