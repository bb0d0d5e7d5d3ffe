"""Where QR codes point: the operator's public address, else where the server listens."""

from __future__ import annotations

import pytest

from phongdich.cli import _listening
from phongdich.config import Settings


def settings(monkeypatch: pytest.MonkeyPatch, **env: str) -> Settings:
    for name in ("PHONGDICH_BASE_URL", "PHONGDICH_HOST", "PHONGDICH_PORT"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(f"PHONGDICH_{name.upper()}", value)
    return Settings(_env_file=None)  # type: ignore[call-arg]


def test_codes_follow_the_port_when_no_address_is_set(monkeypatch: pytest.MonkeyPatch) -> None:
    assert settings(monkeypatch).base_url == "http://127.0.0.1:8000"
    assert settings(monkeypatch, port="8011").base_url == "http://127.0.0.1:8011"
    assert _listening(settings(monkeypatch), None, 9000).base_url == "http://127.0.0.1:9000"
    assert _listening(settings(monkeypatch), "::", 9000).base_url == "http://127.0.0.1:9000"
    assert _listening(settings(monkeypatch), "::1", 9000).base_url == "http://[::1]:9000"


def test_a_public_address_is_kept_whatever_the_port(monkeypatch: pytest.MonkeyPatch) -> None:
    given = settings(monkeypatch, base_url="https://phongdich.caobang.gov.vn", port="8011")
    served = _listening(given, "0.0.0.0", 9000)  # noqa: S104  (what an operator types)
    assert served.base_url == "https://phongdich.caobang.gov.vn"
    assert (served.host, served.port) == ("0.0.0.0", 9000)  # noqa: S104


def test_an_open_server_printing_loopback_codes_is_warned_about(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _listening(settings(monkeypatch), "0.0.0.0", None)  # noqa: S104
    assert "PHONGDICH_BASE_URL" in capsys.readouterr().out
    _listening(settings(monkeypatch), None, None)
    assert capsys.readouterr().out == ""
