"""SLA timers: calendars, next response, pauses, fired warnings and breaches (issue 5)

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 13:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import triage.db

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.add_column(sa.Column("next_response_due", triage.db.UtcDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("awaiting_reply_since", triage.db.UtcDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("sla_paused_at", triage.db.UtcDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("sla_next_check_at", triage.db.UtcDateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f("ix_tickets_sla_next_check_at"), ["sla_next_check_at"], unique=False)

    op.create_table(
        "sla_pauses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("started_at", triage.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("ended_at", triage.db.UtcDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"], name=op.f("fk_sla_pauses_ticket_id_tickets"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sla_pauses")),
    )
    with op.batch_alter_table("sla_pauses", schema=None) as batch_op:
        batch_op.create_index("ix_sla_pauses_ticket", ["ticket_id", "started_at"], unique=False)

    op.create_table(
        "sla_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("metric", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("clock_started_at", triage.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("due_at", triage.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("fired_at", triage.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("fired_by", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"], name=op.f("fk_sla_events_ticket_id_tickets"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sla_events")),
        sa.UniqueConstraint("ticket_id", "metric", "kind", "clock_started_at", name="uq_sla_events_once"),
    )
    with op.batch_alter_table("sla_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sla_events_ticket_id"), ["ticket_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("sla_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sla_events_ticket_id"))
    op.drop_table("sla_events")
    with op.batch_alter_table("sla_pauses", schema=None) as batch_op:
        batch_op.drop_index("ix_sla_pauses_ticket")
    op.drop_table("sla_pauses")
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tickets_sla_next_check_at"))
        batch_op.drop_column("sla_next_check_at")
        batch_op.drop_column("sla_paused_at")
        batch_op.drop_column("awaiting_reply_since")
        batch_op.drop_column("next_response_due")
