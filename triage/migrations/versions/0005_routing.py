"""load balancer: agent channels and capacities, status, handling effort (issue 5)

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 13:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import triage.db

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_json = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("agents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("channels", _json, nullable=True))
        batch_op.add_column(sa.Column("capacity_by_channel", _json, nullable=True))
        batch_op.add_column(sa.Column("status_changed_at", triage.db.UtcDateTime(timezone=True), nullable=True))
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.add_column(sa.Column("queued_at", triage.db.UtcDateTime(timezone=True), nullable=True))
    op.create_table(
        "handling_stats",
        sa.Column("intent", sa.String(length=100), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("mean_minutes", sa.Float(), nullable=False),
        sa.Column("updated_at", triage.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("intent", "channel", name=op.f("pk_handling_stats")),
    )


def downgrade() -> None:
    op.drop_table("handling_stats")
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.drop_column("queued_at")
    with op.batch_alter_table("agents", schema=None) as batch_op:
        batch_op.drop_column("status_changed_at")
        batch_op.drop_column("capacity_by_channel")
        batch_op.drop_column("channels")
