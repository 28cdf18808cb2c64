"""Cities above counties: a deployment may hold the villages of several cities of a province

Revision ID: f15p00000001
Revises: g24h00000001
Create Date: 2026-12-07 15:00:00

Each county gets the city of its code's first four digits (451100 贺州市 for Hezhou's five
districts); a city whose name is not known here is named by its code until an import names it.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "f15p00000001"
down_revision = "g24h00000001"
branch_labels = None
depends_on = None

# Guangxi's cities (GB/T 2260); others are named by their code.
CITY_NAMES = {
    "450100": "南宁市",
    "450200": "柳州市",
    "450300": "桂林市",
    "450400": "梧州市",
    "450500": "北海市",
    "450600": "防城港市",
    "450700": "钦州市",
    "450800": "贵港市",
    "450900": "玉林市",
    "451000": "百色市",
    "451100": "贺州市",
    "451200": "河池市",
    "451300": "来宾市",
    "451400": "崇左市",
}


def upgrade() -> None:
    op.create_table(
        "city",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=12), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_city")),
        sa.UniqueConstraint("code", name=op.f("uq_city_code")),
    )
    with op.batch_alter_table("county") as batch:
        batch.add_column(sa.Column("city_id", sa.Integer(), nullable=True))
        batch.create_index(batch.f("ix_county_city_id"), ["city_id"])
        batch.create_foreign_key(batch.f("fk_county_city_id_city"), "city", ["city_id"], ["id"])
    bind = op.get_bind()
    counties = bind.execute(sa.text("SELECT id, code FROM county")).all()
    cities: dict[str, int] = {}
    for county_id, code in counties:
        city = code[:4] + "00"
        if city not in cities:
            bind.execute(
                sa.text("INSERT INTO city (code, name) VALUES (:code, :name)"),
                {"code": city, "name": CITY_NAMES.get(city, city)},
            )
            cities[city] = bind.execute(
                sa.text("SELECT id FROM city WHERE code = :code"), {"code": city}
            ).scalar_one()
        bind.execute(
            sa.text("UPDATE county SET city_id = :city WHERE id = :id"),
            {"city": cities[city], "id": county_id},
        )


def downgrade() -> None:
    with op.batch_alter_table("county") as batch:
        batch.drop_constraint(batch.f("fk_county_city_id_city"), type_="foreignkey")
        batch.drop_index(batch.f("ix_county_city_id"))
        batch.drop_column("city_id")
    op.drop_table("city")
