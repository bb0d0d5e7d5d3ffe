"""The application factory: settings in, ASGI app out. Nothing here runs at import time."""

from __future__ import annotations

import gc
import logging
import socket
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from sqlalchemy.orm import Session, sessionmaker
from starlette.types import Receive, Scope, Send

from phongdich.config import Settings
from phongdich.core import keyvault
from phongdich.core.clock import Clock, SystemClock
from phongdich.db import WalCheckpointer, engine_for, make_session_factory
from phongdich.jobs.registry import background_handlers, periodic_jobs
from phongdich.jobs.runner import work_once
from phongdich.messaging.sms import SmsSender, sender_for
from phongdich.web import errors
from phongdich.web.api import router as api_router
from phongdich.web.api.scan_lane import ScanLane
from phongdich.web.middleware import BodyLimit, LocaleAndHeaders
from phongdich.web.pages import router as pages_router

log = logging.getLogger(__name__)


def make_sms_sender(settings: Settings) -> SmsSender:
    return sender_for(settings.sms_sender, settings.sms_gateway_url, settings.sms_gateway_token)


def _job_loop(app: FastAPI, stop: threading.Event) -> None:
    worker = f"serve@{socket.gethostname()}"
    jobs = periodic_jobs(
        checkin_retention_days=app.state.settings.checkin_retention_days,
        sms_sender=app.state.sms_sender,
    )
    handlers = background_handlers()
    wake: threading.Event = app.state.jobs_wake
    while not stop.is_set():
        work_once(app.state.session_factory, jobs, handlers, app.state.clock, worker)
        # Until the next poll, or until a page has just queued a job (`pages.jobs.wake_jobs`).
        wake.wait(app.state.settings.job_poll_seconds)
        wake.clear()


class App(FastAPI):
    """The FastAPI app with the scan lane in front of its whole middleware stack (see
    `web.api.scan_lane`): every request passes the lane, which answers device scans and hands
    the rest to FastAPI as usual."""

    scan_lane: ScanLane

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.scan_lane(scope, receive, send)


def create_app(
    settings: Settings,
    *,
    session_factory: sessionmaker[Session] | None = None,
    clock: Clock | None = None,
    sms_sender: SmsSender | None = None,
    run_jobs: bool | None = None,
) -> FastAPI:
    """Build the app; tests hand in their own session factory, clock and SMS sender."""
    keyvault.protect_keys(settings.signing_key_secret)
    if not settings.signing_key_secret and not settings.database_url.startswith("sqlite"):
        log.warning(
            "PHONGDICH_SIGNING_KEY_SECRET is not set: private signing keys are stored unsealed"
        )
    checkpointer = None
    if session_factory is None:
        engine = engine_for(settings, background_checkpoints=True)
        if engine.dialect.name == "sqlite" and engine.url.database not in (None, "", ":memory:"):
            checkpointer = WalCheckpointer(engine)
        session_factory = make_session_factory(engine)
    run_jobs = settings.run_jobs_in_process if run_jobs is None else run_jobs

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if app.state.settings.freeze_gc_at_start:
            # What is alive at start-up (modules, the ORM's mappers, routes: ~150,000 objects)
            # lives as long as the process. Out of the collector's reach, a full collection
            # costs ~5 ms instead of ~100 ms, a pause every few thousand scans of a busy gate
            # (device batches ran ~30 % faster).
            gc.collect()
            gc.freeze()
        if checkpointer is not None:
            checkpointer.start()
        stop = threading.Event()
        thread = None
        if run_jobs:
            thread = threading.Thread(target=_job_loop, args=(app, stop), daemon=True)
            thread.start()
        yield
        stop.set()
        app.state.jobs_wake.set()
        if thread:
            thread.join(timeout=5)
        if checkpointer is not None:
            checkpointer.stop()

    app = App(
        title="phongdich API",
        summary="API của nền tảng phòng dịch: địa bàn, tài khoản, mã truy cập, nhật ký.",
        version="1",
        docs_url="/api/docs",
        redoc_url=None,
        openapi_url="/api/v1/openapi.json",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.session_factory = session_factory
    app.state.clock = clock or SystemClock()
    app.state.sms_sender = sms_sender or make_sms_sender(settings)
    app.state.jobs_wake = threading.Event()
    errors.install(app)
    app.include_router(api_router)
    app.include_router(pages_router)
    app.mount("/static", StaticFiles(directory=Path(__file__).parent / "static"), name="static")
    app.scan_lane = ScanLane(
        partial(FastAPI.__call__, app), app.state, max_body_bytes=settings.max_body_bytes
    )
    app.add_middleware(
        BodyLimit, max_bytes=settings.max_body_bytes, max_upload_bytes=settings.max_upload_bytes
    )
    app.add_middleware(LocaleAndHeaders, default_locale=settings.default_locale)
    return app
