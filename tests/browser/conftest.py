"""A real server on a free port, with the demo data, and headless Chromium driven by Playwright."""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import uvicorn
from sqlalchemy.orm import Session, sessionmaker

from phongdich.config import Settings
from phongdich.core.clock import SystemClock
from phongdich.db import make_session_factory
from phongdich.demo.service import fill_demo
from tests.conftest import FreshDatabase, migrated_engine

CHROMIUM = os.environ.get("PHONGDICH_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@dataclass
class LiveServer:
    url: str
    factory: sessionmaker[Session]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def live_server() -> Iterator[LiveServer]:
    from phongdich.web.app import create_app

    fresh = FreshDatabase()
    engine = migrated_engine(fresh, with_areas=False)
    factory = make_session_factory(engine)
    with factory() as session:
        fill_demo(session, now=SystemClock().now())
        session.commit()
    port = _free_port()
    settings = Settings(  # type: ignore[call-arg]
        database_url=fresh.url,
        run_jobs_in_process=False,
        freeze_gc_at_start=False,  # it runs inside the test process
        _env_file=None,
    )
    app = create_app(settings, session_factory=factory)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("test server did not start")
        time.sleep(0.05)
    yield LiveServer(url=f"http://127.0.0.1:{port}", factory=factory)
    server.should_exit = True
    thread.join(timeout=10)
    engine.dispose()
    fresh.drop()


@pytest.fixture(scope="session")
def browser():  # type: ignore[no-untyped-def]
    if not shutil.which(CHROMIUM) and not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: install Debian's 'chromium' package")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser):  # type: ignore[no-untyped-def]
    """A phone-sized page (360 px wide), as most citizens and staff will see it."""
    context = browser.new_context(viewport={"width": 360, "height": 740}, locale="vi-VN")
    page = context.new_page()
    yield page
    context.close()


def screenshot(page, name: str) -> Path:  # type: ignore[no-untyped-def]
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def fits_the_screen(page) -> bool:  # type: ignore[no-untyped-def]
    """No horizontal scrolling on the 360-px-wide phone of `page`."""
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))
