"""email identities marked bouncing by delivery-status reports (issue 14)

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05 02:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from triage.db import UtcDateTime

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("customer_identities", schema=None) as batch_op:
        batch_op.add_column(sa.Column("bouncing_since", UtcDateTime(), nullable=True))
        batch_op.add_column(sa.Column("bounce_reason", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("customer_identities", schema=None) as batch_op:
        batch_op.drop_column("bounce_reason")
        batch_op.drop_column("bouncing_since")
