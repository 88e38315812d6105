"""QA e-monitoring: sampling runs, samples with pre-checks, reviews and scorecards (issue 7)

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-23 19:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import triage.db

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "qa_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(length=40), nullable=False),
        sa.Column("period_start", triage.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("period_end", triage.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("seed", sa.Integer(), nullable=False),
        sa.Column("sample_size", sa.Integer(), nullable=False),
        sa.Column("rubric", triage.db.JsonType, nullable=False),
        sa.Column("summary", triage.db.JsonType, nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", triage.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_qa_runs")),
    )
    with op.batch_alter_table("qa_runs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_qa_runs_period"), ["period"], unique=False)

    op.create_table(
        "qa_samples",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("purpose", sa.String(length=16), nullable=False),
        sa.Column("reasons", triage.db.JsonType, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("prechecks", triage.db.JsonType, nullable=False),
        sa.Column("sent_at", triage.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("created_at", triage.db.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["agent_id"], ["agents.id"], name=op.f("fk_qa_samples_agent_id_agents")),
        sa.ForeignKeyConstraint(["message_id"], ["messages.id"], name=op.f("fk_qa_samples_message_id_messages"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["run_id"], ["qa_runs.id"], name=op.f("fk_qa_samples_run_id_qa_runs"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"], name=op.f("fk_qa_samples_ticket_id_tickets"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_qa_samples")),
        sa.UniqueConstraint("message_id", "purpose", name="uq_qa_samples_message_id_purpose"),
    )
    with op.batch_alter_table("qa_samples", schema=None) as batch_op:
        batch_op.create_index("ix_qa_samples_agent_id_id", ["agent_id", "id"], unique=False)
        batch_op.create_index(batch_op.f("ix_qa_samples_run_id"), ["run_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_qa_samples_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_qa_samples_ticket_id"), ["ticket_id"], unique=False)

    op.create_table(
        "qa_reviews",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sample_id", sa.Integer(), nullable=False),
        sa.Column("reviewer_id", sa.Integer(), nullable=False),
        sa.Column("scores", triage.db.JsonType, nullable=True),
        sa.Column("item_comments", triage.db.JsonType, nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("total", sa.Float(), nullable=True),
        sa.Column("amendments", sa.Integer(), nullable=False),
        sa.Column("assigned_at", triage.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("submitted_at", triage.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("amended_at", triage.db.UtcDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["reviewer_id"], ["users.id"], name=op.f("fk_qa_reviews_reviewer_id_users")),
        sa.ForeignKeyConstraint(["sample_id"], ["qa_samples.id"], name=op.f("fk_qa_reviews_sample_id_qa_samples"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_qa_reviews")),
        sa.UniqueConstraint("sample_id", "reviewer_id", name="uq_qa_reviews_sample_id_reviewer_id"),
    )
    with op.batch_alter_table("qa_reviews", schema=None) as batch_op:
        batch_op.create_index("ix_qa_reviews_reviewer_id_submitted_at", ["reviewer_id", "submitted_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("qa_reviews", schema=None) as batch_op:
        batch_op.drop_index("ix_qa_reviews_reviewer_id_submitted_at")
    op.drop_table("qa_reviews")
    with op.batch_alter_table("qa_samples", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_qa_samples_ticket_id"))
        batch_op.drop_index(batch_op.f("ix_qa_samples_status"))
        batch_op.drop_index(batch_op.f("ix_qa_samples_run_id"))
        batch_op.drop_index("ix_qa_samples_agent_id_id")
    op.drop_table("qa_samples")
    with op.batch_alter_table("qa_runs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_qa_runs_period"))
    op.drop_table("qa_runs")
