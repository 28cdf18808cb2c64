"""Accounts: creating users, checking passwords, changing them, ending sessions; sign-in limits."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, object_session
from sqlalchemy.orm.attributes import set_committed_value
from werkzeug.security import check_password_hash, generate_password_hash

from web.models import User
from web.models.accounts import ROLES
from web.services import passwords, signins, throttle
from web.services.locking import begin_write, lock_rows, relock
from web.services.translate import _

# werkzeug's default is scrypt; named here so a change is a decision, not an accident.
PASSWORD_METHOD = "scrypt"  # noqa: S105  (a hashing scheme name, not a password)
# Compared against when the username is unknown, so both paths cost the same time.
_DUMMY_HASH = generate_password_hash("duijie-timing-equaliser", method=PASSWORD_METHOD)


MIN_PASSWORD_LENGTH = passwords.MIN_LENGTH
# Failed sign-ins allowed within the window: per username from one address, and per address.
LOGIN_WINDOW = timedelta(minutes=15)
LOGIN_LIMIT_PER_USER = 5
LOGIN_LIMIT_PER_IP = 30
# Failures on one account from devices it never signed in from, from any address.
LOGIN_LIMIT_PER_ACCOUNT = 10
LOGIN_LIMIT_PER_ACCOUNT_DAY = 30
# A plain address check: one @, no spaces, a dot in the domain. Delivery proves the rest.
EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")


class AccountError(ValueError):
    """An account could not be created or changed; the message says why, `code` names it."""

    def __init__(self, message: str, code: str = "") -> None:
        super().__init__(message)
        self.code = code


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
    refused = passwords.problem(password, username)
    if refused is not None:
        raise AccountError(passwords.english(refused), refused)
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


def end_sessions(user: User, keep_sign_in: int | None = None) -> None:
    """Invalidate every session of this user (logout, password change, suspension, reset).

    The account's sign-in rows go too (web.services.signins), but `keep_sign_in`: the browser
    that signs out everywhere else keeps its row, and signs in again under the new version.

    The user's row is locked and read afresh first (SQLite: the write lock), so two ends at
    once (the user's own password change and an administrator's reset) count twice instead of
    both writing the same next version. Call it before changing anything else of the user (the
    fresh read keeps only what was flushed); the caller commits.
    """
    session = object_session(user)
    if session is None:
        raise ValueError("end_sessions needs a user loaded in a session")
    begin_write(session)
    lock_rows(session, User, [user.id])  # by model: `user` may be current_user's proxy
    user.session_version += 1
    signins.end_all(session, user.id, keep=keep_sign_in)


def change_password(session: Session, user: User, current: str, new: str) -> None:
    """Set a new password after checking the current one; ends every session; the caller commits
    (a refusal after the right current password commits the forgotten attempt itself).

    Codes: ``current`` (the current password is wrong, or was changed meanwhile by an
    administrator's reset), a code of web.services.passwords.problem (the new one breaks the
    password policy: ``short``, ``username``, ``common`` ...), ``same`` (the new one equals
    the current one), ``limited`` (too many wrong current passwords lately: a stolen session
    cannot guess its way to the password; attempts made at once count too).

    `user` keeps the session version this change wrote, so the page signing its own browser in
    again stores that one: a reset committed just after still ends this browser's session.
    """
    bucket = f"password-change:{user.id}"
    attempt = throttle.attempt(session, {bucket: LOGIN_LIMIT_PER_USER}, LOGIN_WINDOW)
    if not attempt.allowed:
        raise AccountError("too many wrong current passwords; wait and try again", "limited")
    checked = user.password_hash
    if not check_password_hash(checked, current):
        raise AccountError("the current password is wrong", "current")  # stays counted
    refusal = None
    refused = passwords.problem(new, user.username)
    if refused is not None:
        refusal = AccountError(passwords.english(refused), refused)
    elif new == current:
        refusal = AccountError("the new password equals the current one", "same")
    if refusal is not None:
        throttle.forget(session, attempt)  # the current password was right: no failure
        # commits mid-way: the refusal is raised, yet the right password's attempt is forgotten
        session.commit()
        raise refusal
    new_hash = hash_password(new)
    end_sessions(user)  # locks the row and reads it afresh
    if user.password_hash != checked:  # reset meanwhile: the password checked is not current
        session.rollback()
        raise AccountError("the current password is wrong", "current")
    user.password_hash = new_hash
    throttle.clear(session, bucket)
    version = user.session_version
    session.flush()
    set_committed_value(user, "session_version", version)


def normalise_email(address: str) -> str | None:
    """The address trimmed (None when blank); AccountError("...", "email") when malformed."""
    address = address.strip()
    if not address:
        return None
    if len(address) > 254 or not EMAIL_PATTERN.match(address):
        raise AccountError(f"not an e-mail address: {address!r}", "email")
    return address


def set_email(session: Session, user: User, address: str) -> None:
    """Set (or with a blank address clear) where the user's notices are mailed; the caller
    commits."""
    user.email = normalise_email(address)
    session.flush()


@dataclass(frozen=True)
class LoginBuckets:
    """The rate-limit buckets a sign-in attempt counts against.

    ``user`` counts one account's failures from one address, or from one device the account
    signed in from before (web.devices); ``ip`` one address's failures on any account;
    ``account`` and ``account_day`` one account's failures from everywhere else (addresses and
    devices it never signed in from): 10 within 15 minutes, then 30 within a day, so an
    attacker's wait grows however many addresses it has, while the owner's known device is
    never locked out by them. None for a known device.
    """

    user: str
    ip: str
    account: str | None = None
    account_day: str | None = None

    def limits(self) -> tuple[dict[str, int], dict[str, timedelta]]:
        """(bucket -> limit, bucket -> window where not LOGIN_WINDOW)."""
        limits = {self.user: LOGIN_LIMIT_PER_USER, self.ip: LOGIN_LIMIT_PER_IP}
        windows = {}
        if self.account is not None and self.account_day is not None:
            limits[self.account] = LOGIN_LIMIT_PER_ACCOUNT
            limits[self.account_day] = LOGIN_LIMIT_PER_ACCOUNT_DAY
            windows[self.account_day] = timedelta(days=1)
        return limits, windows


def login_buckets(username: str, ip: str | None, known_device: str | None = None) -> LoginBuckets:
    """Buckets for this username from this address (or from `known_device`, a device id the
    account signed in from before), for the address alone, and account-wide."""
    address = (ip or "unknown")[:45]
    name = username.strip().lower()[:64]
    if known_device:
        return LoginBuckets(
            user=f"login:device:{known_device[:32]}:{name}", ip=f"login:ip:{address}"
        )
    return LoginBuckets(
        user=f"login:user:{address}:{name}",
        ip=f"login:ip:{address}",
        account=f"login:account:{name}",
        account_day=f"login:account-day:{name}",
    )


def login_attempt(session: Session, buckets: LoginBuckets) -> throttle.Attempt:
    """Count a sign-in attempt against its buckets before the password is looked at; commits.

    Refused (``allowed`` false, ``retry_after`` seconds to wait) once any limit is passed,
    however many attempts arrive at once. An allowed attempt stays counted as a failure unless
    :func:`clear_failed_logins` is called for it.
    """
    limits, windows = buckets.limits()
    return throttle.attempt(session, limits, LOGIN_WINDOW, windows)


def note_failed_login(
    session: Session, username: str, buckets: LoginBuckets, attempt: throttle.Attempt
) -> None:
    """Tell the account's holder when its account-wide limit was just reached; the caller
    commits. (Nothing is said to the one signing in: it does not learn the account exists.)"""
    if buckets.account is None or attempt.counts.get(buckets.account) != LOGIN_LIMIT_PER_ACCOUNT:
        return
    user = session.scalar(select(User).where(User.username == username.strip()))
    if user is None:
        return
    from web.services.notifications import notify  # notifications imports outbox, not us

    notify(
        session,
        user,
        "sign_in_limited",
        lambda: _(
            "Someone entered a wrong password for your account %(count)d times within 15 "
            "minutes from other devices or addresses. Sign-in from new devices is paused for a "
            "while; the devices you usually use are not affected. If it was not you, change "
            "your password and tell the administrator.",
            count=LOGIN_LIMIT_PER_ACCOUNT,
        ),
        "/account",
    )


def clear_failed_logins(
    session: Session, buckets: LoginBuckets, attempt: throttle.Attempt | None = None
) -> None:
    """Forget this username's failures from this address (it signed in), and this attempt's
    count against the address; the caller commits."""
    throttle.clear(session, buckets.user)
    if attempt is not None:
        throttle.forget(session, attempt)


def _staff_account(session: Session, user_id: int) -> User:
    """A village committee, township officer, county office or auditor account; LookupError
    otherwise."""
    user = session.get(User, user_id)
    if user is None or user.role not in ("village", "township", "county", "auditor"):
        raise LookupError(user_id)
    return user


def set_staff_active(session: Session, user_id: int, active: bool) -> User:
    """Suspend or restore a staff account; suspending ends its sessions at once; the caller
    commits."""
    user = _staff_account(session, user_id)
    relock(session, user)  # decided on the row as it stands now
    if user.active != active:
        end_sessions(user)
        user.active = active
    session.flush()
    return user


def reset_staff_password(session: Session, user_id: int) -> tuple[User, str]:
    """Give a staff account a new random password (returned once); ends its sessions; the
    caller commits."""
    user = _staff_account(session, user_id)
    password = secrets.token_urlsafe(9)
    new_hash = hash_password(password)  # before the lock: hashing is slow
    end_sessions(user)
    user.password_hash = new_hash
    session.flush()
    return user, password
