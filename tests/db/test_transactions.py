"""A savepoint (`begin_nested`) is part of its request's transaction on every backend: when
the request rolls back, what was written inside the savepoint goes too. pysqlite alone would
have committed it at RELEASE when nothing had been written before it."""

from __future__ import annotations

from sqlalchemy import Column, Integer, MetaData, Table, func, insert, select
from sqlalchemy.orm import Session

from phongdich.db import make_engine
from tests.conftest import FreshDatabase


def test_a_released_savepoint_is_rolled_back_with_its_transaction(
    fresh_database: FreshDatabase,
) -> None:
    engine = make_engine(fresh_database.url)
    table = Table("savepoint_probe", MetaData(), Column("id", Integer, primary_key=True))
    try:
        table.create(engine)
        with Session(engine) as session:
            session.scalar(select(func.count()).select_from(table))  # a read first, no write
            with session.begin_nested():
                session.execute(insert(table).values(id=1))
            session.rollback()
        with engine.connect() as conn:
            assert conn.scalar(select(func.count()).select_from(table)) == 0
        # ... and a commit still commits.
        with Session(engine) as session, session.begin(), session.begin_nested():
            session.execute(insert(table).values(id=2))
        with engine.connect() as conn:
            assert conn.scalar(select(func.count()).select_from(table)) == 1
    finally:
        engine.dispose()
