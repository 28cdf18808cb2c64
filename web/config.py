"""Configuration read from the environment, with defaults that make the demo work."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

# The Alembic scripts: the app's `flask db` commands, the health check and backups read them.
MIGRATIONS_DIR = str(Path(__file__).parent / "migrations")


def _secret_key(instance_path: Path) -> str:
    """Return DUIJIE_SECRET_KEY, or a key generated once and kept in the instance folder."""
    from_env = os.environ.get("DUIJIE_SECRET_KEY")
    if from_env:
        return from_env
    key_file = instance_path / "secret_key"
    if key_file.exists():
        return key_file.read_text(encoding="utf-8").strip()
    instance_path.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    # Created with owner-only permissions: the key signs every session cookie.
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(key)
    return key


def _whole_number(name: str, default: int = 0) -> int:
    """A non-negative whole number from the environment (`default` when unset)."""
    raw = os.environ.get(name, "").strip() or str(default)
    if not raw.isdigit():
        raise ValueError(f"{name} must be a whole number, not {raw!r}")
    return int(raw)


def _choice(name: str, choices: tuple[str, ...]) -> str:
    """One of `choices` (case as given there) from the environment; the first when unset."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return choices[0]
    for choice in choices:
        if raw.lower() == choice.lower():
            return choice
    raise ValueError(f"{name} must be one of {', '.join(choices)}, not {raw!r}")


def _day(name: str) -> date | None:
    """A date like 2026-11-23 from the environment (None when unset)."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise ValueError(f"{name} must be a date like 2026-11-23, not {raw!r}") from None


def instance_path() -> str | None:
    """DUIJIE_INSTANCE_PATH made absolute (the folder of the SQLite file and the generated key);
    None when unset: Flask's default, ./instance beside the package in a checkout."""
    raw = os.environ.get("DUIJIE_INSTANCE_PATH", "").strip()
    if not raw:
        return None
    path = Path(raw).expanduser().resolve()
    if path.exists() and not path.is_dir():
        raise ValueError(f"DUIJIE_INSTANCE_PATH {raw!r} is not a folder")
    return str(path)


def _names(name: str) -> frozenset[str]:
    """Comma-separated names from the environment (empty when unset)."""
    return frozenset(filter(None, os.environ.get(name, "").split(",")))


def audit_key_path(config: Any, instance: str) -> Path:
    """Where the audit chain's HMAC keys are kept: DUIJIE_AUDIT_KEY_FILE, else
    <instance>/audit_keys (made on first use by web.services.audit_keys)."""
    configured = config.get("DUIJIE_AUDIT_KEY_FILE")
    return Path(configured) if configured else Path(instance) / "audit_keys"


def upload_path(config: Any, instance: str) -> Path:
    """The folder uploads are kept in: DUIJIE_UPLOAD_DIR, else <instance>/uploads."""
    configured = config.get("DUIJIE_UPLOAD_DIR")
    return Path(configured) if configured else Path(instance) / "uploads"


def _box(name: str) -> tuple[float, float, float, float] | None:
    """A box "lat min,lat max,lon min,lon max" from the environment (None when unset)."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return None
    try:
        lat_min, lat_max, lon_min, lon_max = (float(part) for part in raw.split(","))
    except ValueError:
        raise ValueError(
            f"{name} must be four numbers: lat min,lat max,lon min,lon max, not {raw!r}"
        ) from None
    if not (-90 <= lat_min < lat_max <= 90 and -180 <= lon_min < lon_max <= 180):
        raise ValueError(f"{name} must hold lat min < lat max and lon min < lon max: {raw!r}")
    return lat_min, lat_max, lon_min, lon_max


@dataclass(frozen=True)
class Settings:
    """Everything the app reads from the environment, resolved once at start-up."""

    database_url: str
    secret_key: str
    redis_url: str | None
    map_tile_url: str | None
    queue_name: str = "duijie"
    upload_dir: str | None = None
    smtp_url: str | None = None
    mail_from: str | None = None
    trusted_proxies: int = 0
    base_url: str | None = None
    https: bool = False
    page_cache: bool = True
    log_format: str = "json"
    log_level: str = "INFO"
    metrics_allow: str | None = None
    # Session lifetimes (web.sessions): idle minutes and absolute hours, staff and households.
    idle_minutes: int = 30
    session_max_hours: int = 12
    household_idle_minutes: int = 24 * 60
    household_max_hours: int = 30 * 24
    # The audit chain's HMAC keys, outside the database (web.services.audit_keys).
    audit_key_file: str | None = None
    village_box: tuple[float, float, float, float] | None = None
    # "Today" for the week rules (web.clock): None reads the clock; demos and tests pin a day.
    today: date | None = None
    # Longest time one part of a distributed week is given, as written (checked when solving).
    part_seconds: str = ""
    # Claims on micro-wishes (issue 17): days a claim holds a wish unsent, open claims a donor
    # may hold at once.
    claim_days: int = 14
    claim_max_open: int = 3
    # Fault points a fault-injection test arms (web.services.faults); never set in production.
    fault_points: frozenset[str] = frozenset()
    fault_pauses: frozenset[str] = frozenset()
    # Days a need may wait for its township's verification before its county is told (issue 16).
    escalate_verify_days: int = 7

    @classmethod
    def from_env(cls, instance_path: Path) -> Settings:
        """Read the DUIJIE_* variables, falling back to the embedded SQLite default."""
        default_db = f"sqlite:///{instance_path / 'duijie.sqlite3'}"
        return cls(
            database_url=os.environ.get("DUIJIE_DATABASE_URL") or default_db,
            secret_key=_secret_key(instance_path),
            redis_url=os.environ.get("DUIJIE_REDIS_URL") or None,
            queue_name=os.environ.get("DUIJIE_QUEUE", "").strip() or "duijie",
            map_tile_url=os.environ.get("DUIJIE_MAP_TILE_URL") or None,
            upload_dir=os.environ.get("DUIJIE_UPLOAD_DIR") or None,
            smtp_url=os.environ.get("DUIJIE_SMTP_URL") or None,
            mail_from=os.environ.get("DUIJIE_MAIL_FROM") or None,
            trusted_proxies=_whole_number("DUIJIE_TRUSTED_PROXIES"),
            base_url=os.environ.get("DUIJIE_BASE_URL") or None,
            https=os.environ.get("DUIJIE_HTTPS", "").strip().lower() in ("1", "true", "yes"),
            page_cache=os.environ.get("DUIJIE_PAGE_CACHE", "").strip().lower()
            not in ("0", "false", "no", "off"),
            log_format=_choice("DUIJIE_LOG_FORMAT", ("json", "text")),
            log_level=_choice("DUIJIE_LOG_LEVEL", ("INFO", "DEBUG", "WARNING", "ERROR")),
            metrics_allow=os.environ.get("DUIJIE_METRICS_ALLOW") or None,
            idle_minutes=_whole_number("DUIJIE_IDLE_MINUTES", 30),
            session_max_hours=_whole_number("DUIJIE_SESSION_MAX_HOURS", 12),
            household_idle_minutes=_whole_number("DUIJIE_HOUSEHOLD_IDLE_MINUTES", 24 * 60),
            household_max_hours=_whole_number("DUIJIE_HOUSEHOLD_MAX_HOURS", 30 * 24),
            audit_key_file=os.environ.get("DUIJIE_AUDIT_KEY_FILE") or None,
            village_box=_box("DUIJIE_VILLAGE_BOX"),
            today=_day("DUIJIE_TODAY"),
            part_seconds=os.environ.get("DUIJIE_PART_SECONDS", "").strip(),
            claim_days=max(1, _whole_number("DUIJIE_CLAIM_DAYS", 14)),
            claim_max_open=max(1, _whole_number("DUIJIE_CLAIM_MAX_OPEN", 3)),
            fault_points=_names("DUIJIE_FAULT"),
            fault_pauses=_names("DUIJIE_FAULT_PAUSE"),
            escalate_verify_days=_whole_number("DUIJIE_ESCALATE_VERIFY_DAYS", 7),
        )

    def flask_config(self) -> dict[str, Any]:
        """Map the settings onto Flask and extension configuration keys."""
        return {
            "SECRET_KEY": self.secret_key,
            "SQLALCHEMY_DATABASE_URI": self.database_url,
            "DUIJIE_REDIS_URL": self.redis_url,
            # The RQ queue's name: deployments (or test runs) sharing one Redis keep apart.
            "DUIJIE_QUEUE": self.queue_name,
            "DUIJIE_MAP_TILE_URL": self.map_tile_url,
            "DUIJIE_UPLOAD_DIR": self.upload_dir,
            "DUIJIE_SMTP_URL": self.smtp_url,
            "DUIJIE_MAIL_FROM": self.mail_from,
            "DUIJIE_TRUSTED_PROXIES": self.trusted_proxies,
            "DUIJIE_BASE_URL": self.base_url,
            # Served over HTTPS: session cookie Secure and named __Host-session (web.security).
            "DUIJIE_HTTPS": self.https,
            # Rendered pages served again while nothing they show has changed (web.caching).
            "DUIJIE_PAGE_CACHE": self.page_cache,
            # Logs and metrics (web.observability).
            "DUIJIE_LOG_FORMAT": self.log_format,
            "DUIJIE_LOG_LEVEL": self.log_level,
            "DUIJIE_METRICS_ALLOW": self.metrics_allow,
            "DUIJIE_IDLE_MINUTES": self.idle_minutes,
            "DUIJIE_SESSION_MAX_HOURS": self.session_max_hours,
            "DUIJIE_HOUSEHOLD_IDLE_MINUTES": self.household_idle_minutes,
            "DUIJIE_HOUSEHOLD_MAX_HOURS": self.household_max_hours,
            # None: instance/audit_keys, made on first use (web.services.audit.key_file).
            "DUIJIE_AUDIT_KEY_FILE": self.audit_key_file,
            # Where villages may lie (web.services.sheets.villages.PROVINCE_BOX when None).
            "DUIJIE_VILLAGE_BOX": self.village_box,
            # The day the current week is taken from (web.clock.today); None: the clock.
            "DUIJIE_TODAY": self.today,
            "DUIJIE_PART_SECONDS": self.part_seconds,
            # Needs unverified longer are escalated to their county (web.services.escalation).
            "DUIJIE_ESCALATE_VERIFY_DAYS": self.escalate_verify_days,
            "DUIJIE_CLAIM_DAYS": self.claim_days,
            "DUIJIE_CLAIM_MAX_OPEN": self.claim_max_open,
            "BABEL_DEFAULT_LOCALE": "zh_CN",
            "BABEL_DEFAULT_TIMEZONE": "Asia/Shanghai",
            "SESSION_COOKIE_HTTPONLY": True,
            "SESSION_COOKIE_SAMESITE": "Lax",
            "WTF_CSRF_TIME_LIMIT": None,
            "MAX_CONTENT_LENGTH": 8 * 1024 * 1024,
            "JSON_SORT_KEYS": False,
        }


def normalise_database_url(url: str) -> str:
    """Point plain postgresql:// URLs at psycopg 3, the driver duijie ships with."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def engine_options(url: str) -> dict[str, Any]:
    """Engine options per backend: SQLite waits on locks instead of failing at once."""
    # hide_parameters: SQL logs and database errors never show the values (household data).
    if url.startswith("sqlite"):
        return {"connect_args": {"timeout": 30}, "hide_parameters": True}
    return {"pool_pre_ping": True, "hide_parameters": True}
