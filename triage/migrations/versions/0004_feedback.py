"""label feedback: agents' corrections kept as labelled examples (issue 4)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 12:19:50.794341
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


import triage.db

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table('label_feedback',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.Integer(), nullable=True),
    sa.Column('task', sa.String(length=32), nullable=False),
    sa.Column('old_label', sa.String(length=100), nullable=True),
    sa.Column('label', sa.String(length=100), nullable=False),
    sa.Column('actor', sa.String(length=200), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('created_at', triage.db.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['message_id'], ['messages.id'], name=op.f('fk_label_feedback_message_id_messages'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_label_feedback'))
    )
    with op.batch_alter_table('label_feedback', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_label_feedback_message_id'), ['message_id'], unique=False)
        batch_op.create_index('ix_label_feedback_task_id', ['task', 'id'], unique=False)



def downgrade() -> None:

    with op.batch_alter_table('label_feedback', schema=None) as batch_op:
        batch_op.drop_index('ix_label_feedback_task_id')
        batch_op.drop_index(batch_op.f('ix_label_feedback_message_id'))

    op.drop_table('label_feedback')
