"""The password policy (issue 24; MLPS 2.0 level 2 identification, ASVS L2 V2.1), in one home.

Every path that sets a password asks :func:`problem`: registration, the password change, an
administrator's account form, the accounts import and ``duijie create-admin``. A password is
refused when it is

- shorter than MIN_LENGTH (10) characters, or longer than MAX_LENGTH;
- the username (ignoring case, and digits or punctuation around it: ``Admin2026!``);
- made of fewer than MIN_DISTINCT different characters (``aaaaaaaaaa``, ``1212121212``);
- in the list of common and breached passwords shipped with the project
  (web/data/common-passwords.txt.gz: the 20,000 most common of Royce Williams' 2017 compilation
  of breached passwords, as Django ships it, BSD licence), itself or with the digits and
  punctuation around it taken off (``password2026``, ``!qwerty123``).
"""

from __future__ import annotations

import gzip
from functools import cache
from pathlib import Path

from web.services.translate import _

MIN_LENGTH = 10
MAX_LENGTH = 256
MIN_DISTINCT = 4
COMMON_LIST = Path(__file__).resolve().parent.parent / "data" / "common-passwords.txt.gz"
_AROUND = "0123456789!@#$%^&*()-_=+.,;:?/\\|~`'\"[]{}<> "


@cache
def common_passwords() -> frozenset[str]:
    """The shipped list of common passwords, lower-cased (read once)."""
    with gzip.open(COMMON_LIST, "rt", encoding="utf-8") as handle:
        return frozenset(line.strip().lower() for line in handle if line.strip())


def problem(password: str, username: str = "") -> str | None:
    """Why `password` is refused, as a code (short, long, username, simple, common), or None."""
    if len(password) < MIN_LENGTH:
        return "short"
    if len(password) > MAX_LENGTH:
        return "long"
    lowered = password.lower()
    core = lowered.strip(_AROUND)
    name = username.strip().lower()
    if name and (lowered == name or core == name.strip(_AROUND) or lowered == name[::-1]):
        return "username"
    if len(set(lowered)) < MIN_DISTINCT:
        return "simple"
    common = common_passwords()
    if lowered in common or (len(core) >= 4 and core in common) or lowered[::-1] in common:
        return "common"
    return None


def message(code: str) -> str:
    """The refusal in the user's language."""
    return {
        "short": _("The password needs at least %(count)s characters.", count=MIN_LENGTH),
        "long": _("The password may have at most %(count)s characters.", count=MAX_LENGTH),
        "username": _("The password must not be the username."),
        "simple": _("The password repeats too few different characters."),
        "common": _(
            "This password is among the most common ones that attackers try first. "
            "Please choose another."
        ),
    }.get(code, _("This password cannot be used."))


def english(code: str) -> str:
    """The refusal in English, for the command line and logs."""
    return {
        "short": f"password must be at least {MIN_LENGTH} characters",
        "long": f"password must be at most {MAX_LENGTH} characters",
        "username": "password must not be the username",
        "simple": "password repeats too few different characters",
        "common": "password is in the list of common passwords",
    }.get(code, "password refused")
