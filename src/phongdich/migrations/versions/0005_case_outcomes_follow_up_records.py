"""tracing: case outcomes (recovered / died on a day), follow-up records (symptoms, temperature)

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import phongdich.db

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("outcome_on", sa.Date(), nullable=True))

    with op.batch_alter_table("follow_ups", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("recorded_at", phongdich.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("symptoms", sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column("temperature", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("follow_ups", schema=None) as batch_op:
        batch_op.drop_column("temperature")
        batch_op.drop_column("symptoms")
        batch_op.drop_column("recorded_at")

    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_column("outcome_on")
