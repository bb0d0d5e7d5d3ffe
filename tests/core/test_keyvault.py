"""Private signing keys at rest: sealed under the operator's secret, bound to their row, and
still usable when stored before a secret was set."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from phongdich.core import keyvault, signing
from phongdich.models import SigningKey
from tests.conftest import T0, FreshDatabase, migrated_engine


@pytest.fixture
def secret() -> Iterator[str]:
    """A secret set for this test only (the process default is no secret)."""
    value = keyvault.new_secret()
    keyvault.protect_keys(value)
    yield value
    keyvault.protect_keys(None)


def stored(db: Session, kid: str) -> bytes:
    blob = db.scalar(select(SigningKey.private_key).where(SigningKey.kid == kid))
    assert blob is not None
    return blob


def test_a_key_is_stored_sealed_and_signs(db: Session, secret: str) -> None:
    key = signing.create_key(db, "venue_qr", now=T0)
    blob = stored(db, key.kid)
    assert keyvault.is_sealed(blob) and len(blob) == keyvault.SEALED_LENGTH
    token = signing.sign(db, "venue_qr", {"v": 1}, now=T0)
    assert signing.verify(db, "venue_qr", token)["v"] == 1
    # Without the secret, or with another one, the key does not open: a clear operator error.
    keyvault.protect_keys(None)
    with pytest.raises(keyvault.KeyLocked, match="PHONGDICH_SIGNING_KEY_SECRET"):
        signing.signer_for(db, "venue_qr", now=T0)
    keyvault.protect_keys(keyvault.new_secret())
    with pytest.raises(keyvault.KeyLocked):
        signing.signer_for(db, "venue_qr", now=T0)
    keyvault.protect_keys(secret)
    assert signing.signer_for(db, "venue_qr", now=T0).kid == key.kid


def test_a_sealed_key_does_not_open_in_another_row(db: Session, secret: str) -> None:
    first = signing.create_key(db, "venue_qr", now=T0)
    second = signing.rotate_key(db, "venue_qr", now=T0)
    second.private_key = stored(db, first.kid)  # moved, e.g. by someone with database access
    db.flush()
    with pytest.raises(keyvault.KeyLocked):
        signing.signer_for(db, "venue_qr", now=T0)


def test_keys_from_before_the_secret_still_sign_and_can_be_sealed(db: Session) -> None:
    key = signing.create_key(db, "person_qr", now=T0)  # no secret yet: stored unsealed
    assert not keyvault.is_sealed(stored(db, key.kid))
    before = signing.sign(db, "person_qr", {"p": 1}, now=T0)
    keyvault.protect_keys(keyvault.new_secret())
    try:
        assert signing.signer_for(db, "person_qr", now=T0).kid == key.kid
        assert signing.seal_stored_keys(db) == 1
        assert keyvault.is_sealed(stored(db, key.kid))
        assert signing.seal_stored_keys(db) == 0  # nothing left to seal
        after = signing.sign(db, "person_qr", {"p": 1}, now=T0)
        assert signing.verify(db, "person_qr", before) == signing.verify(db, "person_qr", after)
    finally:
        keyvault.protect_keys(None)


def test_a_malformed_secret_is_refused() -> None:
    for bad in ("short", "!" * 43):
        with pytest.raises(ValueError, match="phongdich keys new-secret"):
            keyvault.protect_keys(bad)
    keyvault.protect_keys(None)


def test_the_cli_makes_a_secret_and_seals_the_stored_keys(
    fresh_database: FreshDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    from phongdich.cli import app

    engine = migrated_engine(fresh_database, with_areas=False)
    with Session(engine) as db:
        kid = signing.create_key(db, "venue_qr", now=T0).kid
        db.commit()
    monkeypatch.setenv("PHONGDICH_DATABASE_URL", fresh_database.url)
    monkeypatch.delenv("PHONGDICH_SIGNING_KEY_SECRET", raising=False)
    refused = CliRunner().invoke(app, ["keys", "seal"])
    assert refused.exit_code == 2 and "PHONGDICH_SIGNING_KEY_SECRET" in refused.output
    made = CliRunner().invoke(app, ["keys", "new-secret"])
    assert made.exit_code == 0
    monkeypatch.setenv("PHONGDICH_SIGNING_KEY_SECRET", made.output.strip())
    try:
        result = CliRunner().invoke(app, ["keys", "seal"])
        assert result.exit_code == 0, result.output
        assert "Đã niêm phong 1 khoá ký" in result.output
        with Session(engine) as db:
            assert keyvault.is_sealed(stored(db, kid))
            assert signing.signer_for(db, "venue_qr", now=T0).kid == kid
    finally:
        keyvault.protect_keys(None)
        engine.dispose()
