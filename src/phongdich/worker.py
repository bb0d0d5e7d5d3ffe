"""`phongdich worker`: runs periodic and queued jobs; several can run side by side."""

from __future__ import annotations

import os
import socket
import time

from phongdich.config import Settings
from phongdich.core import keyvault
from phongdich.core.clock import SystemClock
from phongdich.db import engine_for, make_session_factory
from phongdich.jobs.registry import background_handlers, periodic_jobs
from phongdich.jobs.runner import work_once
from phongdich.messaging.sms import sender_for


def run_worker(settings: Settings, *, once: bool = False) -> None:
    keyvault.protect_keys(settings.signing_key_secret)
    factory = make_session_factory(engine_for(settings))
    name = f"worker@{socket.gethostname()}:{os.getpid()}"
    clock = SystemClock()
    jobs = periodic_jobs(
        checkin_retention_days=settings.checkin_retention_days,
        sms_sender=sender_for(
            settings.sms_sender, settings.sms_gateway_url, settings.sms_gateway_token
        ),
    )
    handlers = background_handlers()
    while True:
        result = work_once(factory, jobs, handlers, clock, name)
        if once:
            print(result)
            return
        if not result["background"]:
            time.sleep(min(settings.job_poll_seconds, 5.0))
