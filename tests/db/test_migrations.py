"""Migrations are the schema: they build it from nothing, match the models, and step down."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect

from phongdich.db import Base, make_engine, upgrade
from tests.conftest import FreshDatabase


def test_models_and_migrations_do_not_drift(engine: Engine) -> None:
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(ctx, Base.metadata)
    assert diff == [], f"models and migrations differ; add a migration: {diff}"


def test_migrations_run_up_down_and_up_again(fresh_database: FreshDatabase) -> None:
    engine = make_engine(fresh_database.url)
    try:
        upgrade(engine)
        tables = set(inspect(engine).get_table_names())
        assert {"areas", "users", "role_grants", "audit_log", "venues"} <= tables
        from alembic import command

        from phongdich.db import alembic_config

        with engine.begin() as conn:
            cfg = alembic_config()
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "base")
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        upgrade(engine)
        assert {"areas", "venues"} <= set(inspect(engine).get_table_names())
    finally:
        engine.dispose()
