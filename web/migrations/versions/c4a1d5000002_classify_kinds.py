"""Classify the needs and offers already stored by their kind, from their titles

Revision ID: c4a1d5000002
Revises: c4a1d5000001
Create Date: 2026-12-07 13:00:00

matcher.recognize reads each need's and offer's title and description within its category and
names a kind only when it is confident; the stored row is marked inferred. What it cannot tell
stays without a kind: such a need waits in its township's review list and such an offer in the
administrator's, out of every week until a person names the kind.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from matcher.recognize import best_kind
from seeds.catalogue import hezhou_catalogue

# revision identifiers, used by Alembic.
revision = "c4a1d5000002"
down_revision = "c4a1d5000001"
branch_labels = None
depends_on = None

TEXT = ("id", "category_code", "title", "description")


def upgrade() -> None:
    conn = op.get_bind()
    catalogue = hezhou_catalogue()
    need = sa.table("need", *(sa.column(c) for c in (*TEXT, "item_code", "item_inferred")))
    for row in conn.execute(sa.select(*(need.c[c] for c in TEXT)).order_by(need.c.id)).all():
        guess = best_kind(row.title, row.description or "", catalogue, row.category_code)
        if guess is not None:
            conn.execute(
                need.update()
                .where(need.c.id == row.id)
                .values(item_code=guess, item_inferred=True)
            )
    offer = sa.table("offer", *(sa.column(c) for c in (*TEXT, "items_inferred")))
    item = sa.table("offer_item", sa.column("offer_id"), sa.column("kind_code"))
    for row in conn.execute(sa.select(*(offer.c[c] for c in TEXT)).order_by(offer.c.id)).all():
        guess = best_kind(row.title, row.description or "", catalogue, row.category_code)
        if guess is not None:
            conn.execute(item.insert().values(offer_id=row.id, kind_code=guess))
            conn.execute(offer.update().where(offer.c.id == row.id).values(items_inferred=True))


def downgrade() -> None:
    """Classification is data: going down, the previous revision drops the columns with it."""
