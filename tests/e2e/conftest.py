"""The browser tests' fixtures: one `vae-explorer app` server and one Chromium per test session (so one per
pytest-xdist worker: starting them costs seconds of both cores), a fresh browser context per test. Without Chromium
or Playwright the tests skip, except in CI (CI=true), where that is a failure: .ci/run installs both."""
from __future__ import annotations

import os
import shutil
import time
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


MOLECULE_MODEL = "runs/e2e_moses"
MODELS_TTL = 5.0  # seconds the app keeps its list of models (explorer/state.py: models())


@pytest.fixture(scope="session")
def molecule_model(app_server, tmp_path_factory) -> str:
    """A tiny molecule model (trained on the fake MOSES of tests/sequence_fakes.py, with its examples file, so the
    app needs no data) in the app's runs folder; its id. Only a worker that runs a molecule test trains it."""
    from sequence_fakes import install_fake_moses, tiny_sequence_model
    from vae_core.data import sequences

    started = time.monotonic()
    built = tmp_path_factory.mktemp("molecules") / "e2e_moses"
    patch = pytest.MonkeyPatch()
    try:
        install_fake_moses(tmp_path_factory.mktemp("moses"), patch)
        tiny_sequence_model(built, "moses", steps=40)
    finally:
        patch.undo()
        sequences._strings.cache_clear()
    shutil.move(built, app_server.workdir / "runs" / built.name)  # whole, so the app never lists it half-written
    # no page has run since `started`: once the app's list of models from before then has expired, it lists this one
    time.sleep(max(0.0, started + MODELS_TTL + 0.5 - time.monotonic()))
    return MOLECULE_MODEL


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
