"""Alembic migrations; `phongdich.db.upgrade` and `phongdich db upgrade` run them."""
