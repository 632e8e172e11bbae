"""Playwright driving Debian's Chromium, headless, against the page the test cluster's API serves.

Playwright's own browser download cannot work here (no network but package registries): the browser is
the ``chromium`` package devstack installs, found on PATH.
"""

import shutil
from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Browser, BrowserContext, Error, Page, ViewportSize, async_playwright

from tests.fixtures.cluster import Cluster
from tests.web.editor_page import EditorPage

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",  # we run as root, where Chromium's own sandbox refuses to start
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DESKTOP = ViewportSize(width=1280, height=900)
PHONE = ViewportSize(width=375, height=740)


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    """One headless Chromium for the session; each test gets a fresh context (no shared storage)."""
    executable = shutil.which("chromium")
    assert executable, "chromium is not installed (devstack installs it; Debian: apt-get install chromium)"
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield chromium
        await chromium.close()


@pytest.fixture
async def context(browser: Browser) -> AsyncIterator[BrowserContext]:
    """A fresh browser profile: empty localStorage, no cache."""
    fresh = await browser.new_context(viewport=DESKTOP)
    yield fresh
    await fresh.close()


@pytest.fixture
async def page(context: BrowserContext) -> AsyncIterator[Page]:
    """A tab that fails the test if the page's script throws."""
    tab = await context.new_page()
    script_errors: list[Error] = []

    def record(error: Error) -> None:
        script_errors.append(error)

    tab.on("pageerror", record)
    yield tab
    assert not script_errors, f"the page's script threw: {script_errors}"


@pytest.fixture
async def editor(page: Page, cluster: Cluster) -> EditorPage:
    """The editor page of the test cluster's API, loaded."""
    return await EditorPage.open(page, cluster.api_url)
