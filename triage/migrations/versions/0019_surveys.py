"""customer satisfaction surveys: invitations and opt-outs (issue 17)

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-05 11:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import triage.db

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "survey_invitations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=True),
        sa.Column("queue", sa.String(length=100), nullable=True),
        sa.Column("intent", sa.String(length=100), nullable=True),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("nonce", sa.String(length=32), nullable=False),
        sa.Column("sent_at", triage.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", triage.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("responded_at", triage.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("rating", sa.SmallInteger(), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["agent_id"], ["agents.id"], name=op.f("fk_survey_invitations_agent_id_agents"),
                                ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"],
                                name=op.f("fk_survey_invitations_customer_id_customers"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"], name=op.f("fk_survey_invitations_ticket_id_tickets"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_invitations")),
        sa.UniqueConstraint("ticket_id", name=op.f("uq_survey_invitations_ticket_id")),
    )
    with op.batch_alter_table("survey_invitations", schema=None) as batch_op:
        batch_op.create_index("ix_survey_invitations_customer_sent", ["customer_id", "sent_at"], unique=False)
    op.create_table(
        "survey_opt_outs",
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("created_at", triage.db.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"],
                                name=op.f("fk_survey_opt_outs_customer_id_customers"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("customer_id", name=op.f("pk_survey_opt_outs")),
    )


def downgrade() -> None:
    op.drop_table("survey_opt_outs")
    with op.batch_alter_table("survey_invitations", schema=None) as batch_op:
        batch_op.drop_index("ix_survey_invitations_customer_sent")
    op.drop_table("survey_invitations")
