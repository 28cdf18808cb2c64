"""Where aid goes: cities, counties (districts), townships and villages with their official
codes (GB/T 2260 and the statistical division codes: a village's 12-digit code starts with its
township's 9, its county's 6 and its city's 4 digits)."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, CheckConstraint, Date, Float, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from web.extensions import db

if TYPE_CHECKING:
    from web.models.aid import Need


class City(db.Model):
    """A prefecture-level city (地级市) with its 6-digit code (e.g. 451100 贺州市)."""

    __tablename__ = "city"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(12), unique=True)
    name: Mapped[str] = mapped_column(String(64))

    counties: Mapped[list[County]] = relationship(back_populates="city")


def city_code(code: str) -> str:
    """The 6-digit city code of a county, township or village code: its first 4 digits + 00."""
    return code[:4] + "00"


class County(db.Model):
    """A county-level district (区/县) with its 6-digit statistical code, in one city."""

    __tablename__ = "county"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(12), unique=True)
    name: Mapped[str] = mapped_column(String(64))
    city_id: Mapped[int | None] = mapped_column(ForeignKey("city.id"), index=True)
    label_lon: Mapped[float | None] = mapped_column(Float)
    label_lat: Mapped[float | None] = mapped_column(Float)

    city: Mapped[City | None] = relationship(back_populates="counties")
    townships: Mapped[list[Township]] = relationship(back_populates="county")


class Township(db.Model):
    """A township (乡镇/街道) with its 9-digit statistical code."""

    __tablename__ = "township"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(12), unique=True)
    name: Mapped[str] = mapped_column(String(64))
    county_id: Mapped[int] = mapped_column(ForeignKey("county.id"), index=True)

    county: Mapped[County] = relationship(back_populates="townships")
    villages: Mapped[list[Village]] = relationship(back_populates="township")


class Village(db.Model):
    """A poor village (贫困村) the platform serves, keyed by its 12-digit statistical code."""

    __tablename__ = "village"
    __table_args__ = (
        CheckConstraint("population >= 0", name="population_nonnegative"),
        CheckConstraint("poor_households >= 0", name="poor_households_nonnegative"),
        CheckConstraint("poverty_weight >= 1", name="poverty_weight_at_least_one"),
        CheckConstraint("status IN ('poor', 'exited')", name="status_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(12), unique=True)
    name: Mapped[str] = mapped_column(String(64))
    township_id: Mapped[int] = mapped_column(ForeignKey("township.id"), index=True)
    county_id: Mapped[int] = mapped_column(ForeignKey("county.id"), index=True)
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    population: Mapped[int] = mapped_column(Integer, default=0)
    poor_households: Mapped[int] = mapped_column(Integer, default=0)  # 建档立卡户数
    poor_population: Mapped[int] = mapped_column(Integer, default=0)
    poverty_incidence: Mapped[float] = mapped_column(Float, default=0.0)
    poverty_weight: Mapped[float] = mapped_column(Float, default=1.0)
    ethnic_minority: Mapped[bool] = mapped_column(default=False)
    status: Mapped[str] = mapped_column(String(16), default="poor")
    exit_year: Mapped[int | None] = mapped_column(Integer)
    # The day an administrator marked it exited on the exit list (动态脱贫清单): it then leaves
    # the weekly run (web.services.week_instance) and keeps its history. None for villages
    # still poor, and for those imported as exited with only a year (consolidation: still served).
    exited_on: Mapped[date | None] = mapped_column(Date)
    # 十一有一低于: checklist item code -> met; the codes live in seeds.demo.CHECKLIST_ITEMS.
    checklist: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    township: Mapped[Township] = relationship(back_populates="villages")
    county: Mapped[County] = relationship()
    needs: Mapped[list[Need]] = relationship(back_populates="village")
