"""Run the explorer app as a real server and drive it with Debian's Chromium: shared by the e2e test and bench/.

Importing this module does nothing; Playwright is imported only by `launch_chromium`.
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
# Debian's Chromium, headless, with nothing that reaches the network on its own.
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
DECODED_CAPTION = "decoded from the sliders' code"  # the explore page's caption under the server's slider picture
BROWSER_DECODING = {"VAE_EXPLORER_BROWSER_DECODING": "1"}
SERVER_DECODING = {"VAE_EXPLORER_BROWSER_DECODING": "0"}  # an app whose pages decode on the server (the fallback)
HEALTH_TIMEOUT = 60.0  # seconds for `vae-explorer app` to answer /_stcore/health


def free_port() -> int:
    """A TCP port nobody listens on right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def vae_explorer_command() -> list[str]:
    """This Python's `vae-explorer` console script (not a version manager's shim), else its module."""
    script = Path(sys.executable).with_name("vae-explorer")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "vae_core.cli"]


def descendants(pid: int) -> list[int]:
    """Every process below `pid`, read from /proc (one that ends meanwhile is skipped)."""
    found, todo = [], [pid]
    while todo:
        for children in Path(f"/proc/{todo.pop()}/task").glob("*/children"):
            try:
                kids = [int(c) for c in children.read_text().split()]
            except OSError:  # the thread or process just ended
                continue
            found += kids
            todo += kids
    return found


class AppServer:
    """`vae-explorer app` in its own process group, with a private cache and runs folder; a context manager.

    `with AppServer() as server:` returns once /_stcore/health answers at `server.url`. `stop()` ends the whole group
    (the launcher and Streamlit below it), also when start-up failed; `log()` is what the server printed."""

    def __init__(self, workdir: str | os.PathLike | None = None, port: int | None = None,
                 env: dict[str, str] | None = None):
        # decoding in the browser unless told otherwise (e.g. SERVER_DECODING), whatever this process's environment
        # says: under pytest-xdist a worker may have run the AppTests, which switch it off
        self.extra_env = {**BROWSER_DECODING, **(env or {})}
        self._own_dir = None if workdir else tempfile.TemporaryDirectory(prefix="vae-explorer-app-")
        self.workdir = Path(workdir or self._own_dir.name)
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None
        self.started_at = 0.0  # time.perf_counter() just before the launch
        self.healthy_after = 0.0  # seconds from the launch until /_stcore/health answered
        self._log_path = self.workdir / "server.log"

    def start(self) -> "AppServer":
        (self.workdir / "cache").mkdir(parents=True, exist_ok=True)
        (self.workdir / "runs").mkdir(parents=True, exist_ok=True)
        env = dict(os.environ, XDG_CACHE_HOME=str(self.workdir / "cache"), PYTHONUNBUFFERED="1", **self.extra_env)
        command = vae_explorer_command() + [
            "app", "--port", str(self.port), "--host", "127.0.0.1", "--runs", str(self.workdir / "runs"),
        ]
        log = open(self._log_path, "wb")
        self.started_at = time.perf_counter()
        try:
            self.process = subprocess.Popen(
                command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                start_new_session=True,  # its own process group, so stop() reaches Streamlit too
            )
        finally:
            log.close()
        return self

    def wait_healthy(self, timeout: float = HEALTH_TIMEOUT) -> float:
        """Seconds from launch until /_stcore/health answered "ok"; RuntimeError (with the server log) otherwise."""
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"`vae-explorer app` exited with code {self.process.returncode}:\n{self.log()}")
            try:
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=1) as response:
                    if response.status == 200 and response.read().strip() == b"ok":
                        self.healthy_after = time.perf_counter() - self.started_at
                        return self.healthy_after
            except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
                pass
            time.sleep(0.05)
        raise RuntimeError(f"`vae-explorer app` did not answer {self.url}/_stcore/health within {timeout:.0f} s:\n{self.log()}")

    def pids(self) -> list[int]:
        """The launcher and every process below it (Streamlit), read from /proc."""
        if self.process is None or self.process.poll() is not None:
            return []
        return [self.process.pid, *descendants(self.process.pid)]

    def streamlit_pid(self) -> int:
        """The process that serves the app: `vae-explorer app` becomes `python -m explorer.serve` (Streamlit's
        command line), or a `streamlit run` below it."""
        for pid in self.pids():
            try:
                cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
                if b"explorer.serve" in cmdline or b"streamlit" in cmdline:
                    return pid
            except OSError:
                pass
        raise RuntimeError(f"no Streamlit process below `vae-explorer app` (pid {self.process.pid})")

    def log(self) -> str:
        try:
            return self._log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            pgid = self.process.pid  # start_new_session: the group id is the launcher's pid
            try:
                os.killpg(pgid, signal.SIGTERM)
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(pgid, signal.SIGKILL)
                self.process.wait(timeout=10)
            except ProcessLookupError:
                pass
        if self._own_dir is not None:
            self._own_dir.cleanup()
            self._own_dir = None

    def __enter__(self) -> "AppServer":
        try:
            self.start().wait_healthy()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def launch_chromium(playwright):
    """Debian's Chromium through Playwright (never a downloaded browser); launch() makes a fresh profile."""
    return playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)


@contextmanager
def app_in_chromium(env: dict[str, str] | None = None) -> Iterator[tuple[object, AppServer]]:
    """(browser, server): a fresh app server (with `env`) and Debian's Chromium, both ended afterwards (benchmarks)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright, AppServer(env=env) as server:
        browser = launch_chromium(playwright)
        try:
            yield browser, server
        finally:
            browser.close()


def wait_for_app_run(page, timeout_ms: int = 30_000) -> None:
    """Block until Streamlit is connected and its script (or fragment) has finished running.

    Streamlit publishes its state on the root element: data-test-script-state goes running -> notRunning."""
    page.wait_for_timeout(150)  # let a widget's debounced change reach the server first
    page.locator("[data-testid='stApp'][data-test-connection-state='CONNECTED']").wait_for(state="attached", timeout=timeout_ms)
    page.locator("[data-testid='stApp'][data-test-script-state='notRunning']").wait_for(state="attached", timeout=timeout_ms)
    page.locator("[data-testid='stSkeleton']").first.wait_for(state="detached", timeout=timeout_ms)


def full_screenshot(page, path: str | os.PathLike) -> None:
    """A screenshot of the whole app. Streamlit scrolls inside its main container, not the document, so
    full_page=True alone shows one window's height: the window is made as tall as the content for the shot."""
    size = page.viewport_size
    height = page.evaluate(
        "() => Math.max(...[...document.querySelectorAll(\"[data-testid='stMain'], [data-testid='stSidebarContent']\")]"
        ".map(e => e.scrollHeight), window.innerHeight)"
    )
    page.set_viewport_size({"width": size["width"], "height": min(int(height), 8000)})
    try:
        page.wait_for_timeout(300)  # charts and images re-lay themselves out
        page.screenshot(path=str(path), full_page=True)
    finally:
        page.set_viewport_size(size)


def image_with_caption(page, text: str):
    """Locator of the <img> of the st.image whose caption contains `text`."""
    container = page.locator("[data-testid='stImageContainer']").filter(
        has=page.locator("[data-testid='stImageCaption']", has_text=text)
    )
    return container.locator("img")


def wait_until_loaded(page, image, timeout_ms: int = 30_000) -> str:
    """Wait until the <img> `image` (a Locator) has a decoded picture; returns its src."""
    image.wait_for(state="visible", timeout=timeout_ms)
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=image.element_handle(), timeout=timeout_ms)
    return image.get_attribute("src")


def vm_hwm_kib(pid: int) -> int:
    """Peak resident set size of a process (VmHWM in /proc/<pid>/status), in KiB; 0 if it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def mapped_files(pid: int) -> set[str]:
    """Paths of the files (shared objects among them) mapped into a process's memory."""
    try:
        lines = Path(f"/proc/{pid}/maps").read_text().splitlines()
    except OSError:
        return set()
    return {parts[5] for parts in (line.split(maxsplit=5) for line in lines) if len(parts) == 6 and parts[5].startswith("/")}
