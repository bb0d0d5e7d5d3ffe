"""tracing: covering indexes for exposure reads (visits by venue and time with check-out and
person; people by commune and street address)

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27 22:00:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Each new index starts with the columns of the one it replaces, so every query that used
    # the old one can use the new.
    op.create_index(
        "ix_visits_venue_checked_in_out_person",
        "visits",
        ["venue_id", "checked_in_at", "checked_out_at", "person_id"],
    )
    op.drop_index("ix_visits_venue_checked_in", table_name="visits")
    op.create_index("ix_people_area_street", "people", ["area_id", "street_address"])
    op.drop_index("ix_people_area_id", table_name="people")


def downgrade() -> None:
    op.create_index("ix_people_area_id", "people", ["area_id"])
    op.drop_index("ix_people_area_street", table_name="people")
    op.create_index("ix_visits_venue_checked_in", "visits", ["venue_id", "checked_in_at"])
    op.drop_index("ix_visits_venue_checked_in_out_person", table_name="visits")
