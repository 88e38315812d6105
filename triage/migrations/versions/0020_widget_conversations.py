"""live chat widget: per-conversation tokens (issue 16 item 6)

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-05 13:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import triage.db

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "widget_conversations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("conversation_id", sa.String(length=250), nullable=False),
        sa.Column("customer_ref", sa.String(length=300), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("origin", sa.String(length=300), nullable=True),
        sa.Column("ip", sa.String(length=64), nullable=False),
        sa.Column("created_at", triage.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", triage.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_widget_conversations")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_widget_conversations_token_hash")),
        sa.UniqueConstraint("conversation_id", name=op.f("uq_widget_conversations_conversation_id")),
    )


def downgrade() -> None:
    op.drop_table("widget_conversations")
