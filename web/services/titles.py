"""One rule for titles, in forms, the API and imports alike (issue 24).

A title is trimmed, and refused when blank or when it holds a character that hides or
rearranges what is shown: control characters, zero-width and other invisible format
characters (U+200B-U+200F, U+2060, U+FEFF, soft hyphen), bidirectional overrides and isolates
(U+202A-U+202E, U+2066-U+2069: "gnp.exe" shown for "exe.png"), line and paragraph separators,
private-use and unassigned code points. Longer than MAX_TITLE characters is refused too, and
so is a title with no word in it: no letter or digit of any script (only emoji or punctuation,
issue 23).
"""

from __future__ import annotations

import re
import unicodedata

from web.services.translate import _

MAX_TITLE = 200
# Unicode categories refused: control, format (zero-width, bidi), surrogate, private use,
# unassigned, line and paragraph separators.
REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})


def hidden_characters(value: str) -> list[str]:
    """The refused characters in `value`, as U+XXXX, in order, without repeats."""
    found: list[str] = []
    for char in value:
        if unicodedata.category(char) in REFUSED_CATEGORIES:
            code = f"U+{ord(char):04X}"
            if code not in found:
                found.append(code)
    return found


def title_problem(value: str) -> str | None:
    """Why a title is refused (blank, characters, long), or None; judged on it trimmed."""
    trimmed = value.strip()
    if not trimmed:
        return "blank"
    if hidden_characters(trimmed):
        return "characters"
    if len(trimmed) > MAX_TITLE:
        return "long"
    if not has_words(trimmed):
        return "no_words"
    return None


def has_words(value: str) -> bool:
    """Whether `value` holds a letter or a digit of any script (汉字 included)."""
    return any(unicodedata.category(char)[0] in "LN" for char in value)


WISH_PREFIXES = ("微心愿：", "微心愿:")


def wish_title(title: str) -> str:
    """A micro-wish's title as shown next to its 微心愿 tag: without a 微心愿： its committee
    (or the demo) wrote into the title, so the page does not read "微心愿 微心愿：书包"."""
    for prefix in WISH_PREFIXES:
        if title.startswith(prefix) and title[len(prefix) :].strip():
            return title[len(prefix) :].strip()
    return title


def title_message(code: str) -> str:
    """The refusal in the user's language (forms and imports)."""
    return {
        "blank": _("Please enter a title."),
        "characters": _(
            "The title contains invisible or direction-changing characters; please type it "
            "again without them."
        ),
        "long": _("At most %(limit)s characters.", limit=MAX_TITLE),
        "no_words": _("The title needs words that say what it is, not only symbols or emoji."),
    }.get(code, _("Please enter a title."))


# What a public title must not give away about a household (a micro-wish's title is shown on
# the public pages): a mobile or landline number, an ID-card number, a member's name.
_PHONE = re.compile(r"(?<!\d)(?:1[3-9]\d{9}|0\d{2,3}-?\d{7,8})(?!\d)")
_ID_CARD = re.compile(r"(?<![0-9A-Za-z])(?:\d{17}[\dXx]|\d{15})(?![0-9A-Za-z])")


def personal_data_in(title: str, names: list[str]) -> list[str]:
    """What in `title` may identify a household: "phone", "id_card", "name" (any of `names`,
    masked names like 黄** counted by their visible part of two characters or more)."""
    found = []
    if _PHONE.search(title):
        found.append("phone")
    if _ID_CARD.search(title):
        found.append("id_card")
    for name in names:
        visible = name.replace("*", "").replace("＊", "").strip()
        if len(visible) >= 2 and visible in title:
            found.append("name")
            break
    return found


def personal_data_message(found: list[str]) -> str:
    """The warning shown to the committee before a title goes public."""
    what = {
        "phone": _("a phone number"),
        "id_card": _("an ID-card number"),
        "name": _("the household's name"),
    }
    return _(
        "This title will be shown on the public pages, and it seems to contain %(what)s. "
        "Please remove it, or tick the box to confirm the title may be public.",
        what="、".join(what[code] for code in found),
    )
