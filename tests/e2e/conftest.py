"""The browser tests' fixtures: one `vae-explorer app` server and one Chromium per test session (so one per
pytest-xdist worker: starting them costs seconds of both cores), a fresh browser context per test. Without Chromium
or Playwright the tests skip, except in CI (CI=true), where that is a failure: .ci/run installs both."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from harness import CHROMIUM, AppServer, launch_chromium


# --- fixtures ---------------------------------------------------------------------------------------------------
def _missing() -> str | None:
    """Why the browser test cannot run here, or None."""
    if not CHROMIUM.is_file():
        return f"{CHROMIUM} is missing (apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is missing (python -m pip install playwright; never `playwright install`)"
    return None


@pytest.fixture(scope="session")
def browser_ready() -> None:
    reason = _missing()
    if reason is None:
        return
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI must run the browser test, but {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """Where screenshots go: $PYTEST_ARTIFACTS, else tests/e2e/artifacts/ (gitignored)."""
    folder = Path(os.environ.get("PYTEST_ARTIFACTS") or Path(__file__).parent / "artifacts")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="session")
def app_server(browser_ready, tmp_path_factory, artifacts):
    """The app on a free port, with a private XDG_CACHE_HOME and runs folder; stopped (whole process group) at the end."""
    server = AppServer(tmp_path_factory.mktemp("app"))
    try:
        with server:
            yield server
    finally:
        worker = os.environ.get("PYTEST_XDIST_WORKER")  # each worker has its own server
        (artifacts / f"server{f'-{worker}' if worker else ''}.log").write_text(server.log(), encoding="utf-8")


@pytest.fixture(scope="session")
def molecule_model() -> str:
    """The shipped molecule model: it carries its test molecules (examples.txt), so the app needs no data."""
    return "pretrained/moses_vae"


@pytest.fixture(scope="session")
def browser(browser_ready):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def js_errors() -> list[str]:
    """Uncaught JavaScript errors of the test's page."""
    return []


@pytest.fixture
def page(browser, app_server, js_errors):
    """A fresh browser context (no shared session state) on a desktop-sized window."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    context.set_default_timeout(30_000)
    page = context.new_page()
    page.on("pageerror", lambda exc: js_errors.append(str(exc)))
    try:
        yield page
    finally:
        context.close()
