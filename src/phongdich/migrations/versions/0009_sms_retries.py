"""messaging: failed SMS deliveries are retried: attempts made and when to try next

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-28 03:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import phongdich.db

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Messages that failed before this revision stay failed: nothing says whether they are
    # still worth sending.
    with op.batch_alter_table("sms_messages") as batch:
        batch.add_column(
            sa.Column("attempts", sa.Integer(), nullable=False, server_default=sa.text("0"))
        )
        batch.add_column(
            sa.Column("next_attempt_at", phongdich.db.UTCDateTime(timezone=True), nullable=True)
        )
    op.create_index("ix_sms_messages_status", "sms_messages", ["status"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_sms_messages_status", table_name="sms_messages")
    with op.batch_alter_table("sms_messages") as batch:
        batch.drop_column("next_attempt_at")
        batch.drop_column("attempts")
