"""Accounts: creating users, checking passwords, ending sessions."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from web.models import User
from web.models.accounts import ROLES

# werkzeug's default is scrypt; named here so a change is a decision, not an accident.
PASSWORD_METHOD = "scrypt"  # noqa: S105  (a hashing scheme name, not a password)
# Compared against when the username is unknown, so both paths cost the same time.
_DUMMY_HASH = generate_password_hash("duijie-timing-equaliser", method=PASSWORD_METHOD)


class AccountError(ValueError):
    """An account could not be created or changed; the message says why."""


def hash_password(password: str) -> str:
    """Hash a password with the platform's scheme."""
    return generate_password_hash(password, method=PASSWORD_METHOD)


def authenticate(session: Session, username: str, password: str) -> User | None:
    """Return the active user with these credentials, or None."""
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        check_password_hash(_DUMMY_HASH, password)
        return None
    if not check_password_hash(user.password_hash, password) or not user.active:
        return None
    return user


def create_user(
    session: Session, username: str, password: str, role: str, display_name: str = ""
) -> User:
    """Add a user; the caller commits."""
    if role not in ROLES:
        raise AccountError(f"unknown role {role!r}; expected one of {', '.join(ROLES)}")
    if not username or len(username) > 64:
        raise AccountError("username must be 1 to 64 characters")
    if len(password) < 8:
        raise AccountError("password must be at least 8 characters")
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise AccountError(f"username {username!r} is taken")
    user = User(
        username=username,
        password_hash=hash_password(password),
        role=role,
        display_name=display_name or username,
    )
    session.add(user)
    return user


def end_sessions(user: User) -> None:
    """Invalidate every session of this user (logout, password change)."""
    user.session_version += 1
