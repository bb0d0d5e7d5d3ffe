"""An app factory for tests that run the server in a separate process (`uvicorn --factory`).

It is an entry point like `phongdich serve`, so it reads the settings from the environment.
"""

from __future__ import annotations

from fastapi import FastAPI

from phongdich.config import Settings
from phongdich.web.app import create_app


def app() -> FastAPI:
    return create_app(Settings(_env_file=None), run_jobs=False)  # type: ignore[call-arg]
