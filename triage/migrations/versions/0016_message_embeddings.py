"""each message's embedding, stored once for every consumer (issue 18)

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-05 10:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import triage.db

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "message_embeddings",
        sa.Column("message_id", sa.Integer(), nullable=False),
        sa.Column("encoder", sa.String(length=200), nullable=False),
        sa.Column("text_sha256", sa.String(length=64), nullable=False),
        sa.Column("vector", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", triage.db.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["message_id"], ["messages.id"],
                                name=op.f("fk_message_embeddings_message_id_messages"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("message_id", name=op.f("pk_message_embeddings")),
    )


def downgrade() -> None:
    op.drop_table("message_embeddings")
