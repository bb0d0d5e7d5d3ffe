"""Settings, read from PHONGDICH_* environment variables by the entry points only.

Domain code never imports this module's `Settings()` at import time: `web.app.create_app`,
`cli` and `worker` build one and pass what each piece needs down as arguments.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Everything an operator can set; defaults run the embedded SQLite demo."""

    model_config = SettingsConfigDict(env_prefix="PHONGDICH_", env_file=".env", extra="ignore")

    @model_validator(mode="after")
    def _listening_address(self) -> Settings:
        if not self.base_url:
            self.base_url = listening_url(self.host, self.port)
            # Still "not given" (`model_fields_set`): `serve --port` then moves it along.
            self.__pydantic_fields_set__.discard("base_url")
        return self

    database_url: str = Field(
        default=f"sqlite:///{Path('var') / 'phongdich.sqlite3'}",
        description="SQLAlchemy URL; production uses postgresql+psycopg://user@host/db",
    )
    # PostgreSQL connections each server process keeps open. Under load every worker thread
    # (40 by default) may want one; with too few, connections beyond the pool were opened and
    # closed for each request, a new database backend each time (a device scan ran at ~450/s).
    database_pool_size: int = 20
    database_max_overflow: int = 20
    # The public address printed in every QR code. Unset, it is where `serve` listens, so that
    # PHONGDICH_PORT alone does not print codes pointing at another port.
    base_url: str = ""
    host: str = "127.0.0.1"
    port: int = 8000
    # Cookies marked Secure are dropped by browsers over plain http, so the demo keeps this off.
    cookie_secure: bool = False
    session_hours: int = 12
    default_locale: Literal["vi", "en"] = "vi"
    # Request bodies above this are refused before they are read (uploads have their own limit).
    max_body_bytes: int = 1_000_000
    max_upload_bytes: int = 20_000_000
    # Phone codes (OTP) for citizens and venue owners.
    otp_ttl_seconds: int = 300
    otp_length: int = 6
    sms_sender: Literal["outbox", "http"] = "outbox"
    sms_gateway_url: str = ""
    sms_gateway_token: str = ""
    # Periodic jobs run inside `serve` unless a separate worker does them.
    run_jobs_in_process: bool = True
    # At start, collect once and move what is alive out of the garbage collector's reach (see
    # `web.app`). Off where many apps start in one process (the tests): what is frozen stays.
    freeze_gc_at_start: bool = True
    # Seals the private signing keys in the database (`core.keyvault`): 32 bytes, base64url,
    # from `phongdich keys new-secret`. Empty: keys are stored unsealed (the demo).
    signing_key_secret: str = ""
    job_poll_seconds: float = 30.0
    checkin_retention_days: int = 28


def listening_url(host: str, port: int) -> str:
    """The address of a server listening on `host`:`port`, as a browser on this machine opens it
    (all interfaces, 0.0.0.0 or ::, are reached at 127.0.0.1)."""
    shown = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host  # noqa: S104 (a comparison)
    if ":" in shown:
        shown = f"[{shown}]"
    return f"http://{shown}:{port}"
