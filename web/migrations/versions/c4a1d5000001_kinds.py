"""Kinds (spec v1.1): the catalogue, each need's kind and alternatives, each offer's kinds

Revision ID: c4a1d5000001
Revises: b7c1a0ad0001
Create Date: 2026-12-07 12:30:00

The catalogue is created from Hezhou's starting catalogue (seeds/data/catalogue.csv); the next
revision classifies the needs and offers already stored.
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "c4a1d5000001"
down_revision = "b7c1a0ad0001"
branch_labels = None
depends_on = None


def _create_schema() -> None:
    op.create_table(
        "kind",
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("category_code", sa.String(length=32), nullable=False),
        sa.Column("parent_code", sa.String(length=64), nullable=True),
        sa.Column("name_zh", sa.String(length=64), nullable=False),
        sa.Column("name_en", sa.String(length=128), nullable=False),
        sa.Column("unit_zh", sa.String(length=16), nullable=False),
        sa.Column("unit_en", sa.String(length=32), nullable=False),
        sa.Column("ref_value", sa.Float(), nullable=False),
        sa.Column("synonyms", sa.Text(), nullable=False),
        sa.Column("alternatives", sa.Text(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("ref_value > 0", name=op.f("ck_kind_ref_value_positive")),
        sa.ForeignKeyConstraint(
            ["category_code"], ["category.code"], name=op.f("fk_kind_category_code_category")
        ),
        sa.ForeignKeyConstraint(
            ["parent_code"], ["kind.code"], name=op.f("fk_kind_parent_code_kind")
        ),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_kind")),
    )
    with op.batch_alter_table("kind") as batch_op:
        batch_op.create_index(batch_op.f("ix_kind_category_code"), ["category_code"])
        batch_op.create_index(batch_op.f("ix_kind_parent_code"), ["parent_code"])
    for table, owner in (("offer_item", "offer"), ("need_accept", "need")):
        op.create_table(
            table,
            sa.Column(f"{owner}_id", sa.Integer(), nullable=False),
            sa.Column("kind_code", sa.String(length=64), nullable=False),
            sa.ForeignKeyConstraint(
                ["kind_code"], ["kind.code"], name=op.f(f"fk_{table}_kind_code_kind")
            ),
            sa.ForeignKeyConstraint(
                [f"{owner}_id"], [f"{owner}.id"], name=op.f(f"fk_{table}_{owner}_id_{owner}")
            ),
            sa.PrimaryKeyConstraint(f"{owner}_id", "kind_code", name=op.f(f"pk_{table}")),
        )
    with op.batch_alter_table("offer") as batch_op:
        batch_op.add_column(
            sa.Column("general", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(
            sa.Column("items_inferred", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table("need") as batch_op:
        batch_op.add_column(sa.Column("item_code", sa.String(length=64), nullable=True))
        batch_op.add_column(
            sa.Column("item_inferred", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_need_item_code_kind"), "kind", ["item_code"], ["code"]
        )
        batch_op.create_index(batch_op.f("ix_need_item_code"), ["item_code"])
    with op.batch_alter_table("help_request") as batch_op:
        batch_op.add_column(sa.Column("item_code", sa.String(length=64), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_help_request_item_code_kind"), "kind", ["item_code"], ["code"]
        )


def _seed_catalogue(conn: sa.Connection) -> None:
    from matcher.categories import CATEGORIES
    from seeds.catalogue import LIST_SEPARATOR, hezhou_catalogue

    category = sa.table(
        "category", *(sa.column(c) for c in ("code", "name_zh", "name_en", "unit_zh", "unit_en"))
    )
    have = set(conn.scalars(sa.select(category.c.code)))
    missing = [c for c in CATEGORIES if c.code not in have]
    if missing:
        conn.execute(
            category.insert(),
            [
                {"code": c.code, "name_zh": c.name_zh, "name_en": c.name_en,
                 "unit_zh": c.unit_zh, "unit_en": c.unit_en}
                for c in missing
            ],
        )  # fmt: skip
    now = datetime.now(UTC)
    rows = [
        {
            "code": k.code, "category_code": k.category, "parent_code": k.parent,
            "name_zh": k.name_zh, "name_en": k.name_en, "unit_zh": k.unit_zh,
            "unit_en": k.unit_en, "ref_value": k.ref_value,
            "synonyms": LIST_SEPARATOR.join(k.synonyms),
            "alternatives": LIST_SEPARATOR.join(k.alternatives),
            "position": position, "retired_at": None, "created_at": now, "updated_at": now,
        }
        for position, k in enumerate(hezhou_catalogue().kinds)
    ]  # fmt: skip
    kind = sa.table("kind", *(sa.column(c) for c in rows[0]))
    conn.execute(kind.insert(), rows)


def upgrade() -> None:
    _create_schema()
    conn = op.get_bind()
    _seed_catalogue(conn)


def downgrade() -> None:
    with op.batch_alter_table("help_request") as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_help_request_item_code_kind"), type_="foreignkey")
        batch_op.drop_column("item_code")
    with op.batch_alter_table("need") as batch_op:
        batch_op.drop_index(batch_op.f("ix_need_item_code"))
        batch_op.drop_constraint(batch_op.f("fk_need_item_code_kind"), type_="foreignkey")
        batch_op.drop_column("item_inferred")
        batch_op.drop_column("item_code")
    with op.batch_alter_table("offer") as batch_op:
        batch_op.drop_column("items_inferred")
        batch_op.drop_column("general")
    op.drop_table("need_accept")
    op.drop_table("offer_item")
    with op.batch_alter_table("kind") as batch_op:
        batch_op.drop_index(batch_op.f("ix_kind_parent_code"))
        batch_op.drop_index(batch_op.f("ix_kind_category_code"))
    op.drop_table("kind")
