"""emerging-issue alert episodes (issue 17)

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-05 10:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import triage.db

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "alert_episodes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("open_key", sa.String(length=220), nullable=True),
        sa.Column("opened_at", triage.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", triage.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("closed_at", triage.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("observed", sa.Integer(), nullable=False),
        sa.Column("expected", sa.Float(), nullable=False),
        sa.Column("p_value", sa.Float(), nullable=True),
        sa.Column("details", triage.db.JsonType, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_episodes")),
        sa.UniqueConstraint("open_key", name=op.f("uq_alert_episodes_open_key")),
    )


def downgrade() -> None:
    op.drop_table("alert_episodes")
