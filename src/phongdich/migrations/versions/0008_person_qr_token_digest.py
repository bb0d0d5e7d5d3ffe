"""people: the SHA-256 of each personal QR as issued, so that a scan of the issued code needs
no signature check

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-28 00:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Codes issued before keep NULL and are checked by their signature, as before.
    with op.batch_alter_table("person_qr_codes") as batch:
        batch.add_column(sa.Column("token_digest", sa.LargeBinary(length=32), nullable=True))
    op.create_index(
        "ix_person_qr_codes_token_digest", "person_qr_codes", ["token_digest"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_person_qr_codes_token_digest", table_name="person_qr_codes")
    with op.batch_alter_table("person_qr_codes") as batch:
        batch.drop_column("token_digest")
