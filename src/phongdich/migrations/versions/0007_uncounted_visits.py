"""checkins: new visits wait in `uncounted_visits` for the counting job

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28 00:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Empty at first: every visit stored before this revision was counted as it was made.
    op.create_table(
        "uncounted_visits",
        sa.Column("visit_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.PrimaryKeyConstraint("visit_id", name=op.f("pk_uncounted_visits")),
    )


def downgrade() -> None:
    op.drop_table("uncounted_visits")
