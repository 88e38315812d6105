"""attachment contents

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 12:03:36.834942
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


import triage.db

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table('attachment_blobs',
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('content_type', sa.String(length=200), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', triage.db.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('sha256', name=op.f('pk_attachment_blobs'))
    )



def downgrade() -> None:

    op.drop_table('attachment_blobs')

