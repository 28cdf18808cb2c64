"""The unit of work: where a change is committed, or rolled back, once.

Services only add and flush; they never commit (the few documented exceptions carry a
``# commits mid-way: <why>`` comment, checked by tests/web/site/test_layering.py). The
boundaries commit: a view, an API operation (web.api.registry.run), a CLI command and a job each
run their work in one unit of work::

    with unit_of_work():
        offers.create_offer(db.session, user, data)

On leaving the block normally the session is committed; on any exception it is rolled back
first and the exception goes on, so a view that catches a domain error to re-show its form never
commits what the service flushed before it failed. Put the block *inside* the ``try``.

What a commit does besides writing: :func:`install_mail_on_commit` (called by create_app) has
every commit queue the e-mail of the notices its work recorded (web.services.notifications),
with the mail settings the app's configuration holds at that moment.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import ParamSpec, TypeVar

from flask import current_app, has_app_context
from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from web.extensions import db
from web.services.notifications import NOTICES, forget_recorded, mail_recorded
from web.services.outbox import mail_settings

P = ParamSpec("P")
R = TypeVar("R")


@contextmanager
def unit_of_work(session: Session | None = None) -> Iterator[Session]:
    """Yield the session; commit it when the block ends, roll it back if the block raises."""
    session = session if session is not None else db.session  # type: ignore[assignment]
    try:
        yield session
        session.commit()
    except BaseException:  # the block failed, or the commit itself (a dropped connection)
        session.rollback()
        undo_outside(session)
        raise
    session.info.pop(UNDO, None)


UNDO = "undo_on_rollback"


def undo_outside(session: Session) -> None:
    """Undo what the rolled-back work did outside the database (a stored photo): services list
    it in ``session.info[UNDO]`` as functions to call."""
    for undo in session.info.pop(UNDO, []):
        undo()


def transactional(work: Callable[P, R]) -> Callable[P, R]:
    """Run a function (a CLI command, a job step) in one unit of work on the app's session."""

    @wraps(work)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        with unit_of_work():
            return work(*args, **kwargs)

    return run


def _mail_notices(session: Session) -> None:
    """Before a commit: queue the mail of the notices recorded in it, with the app's settings
    (read now, so a change of configuration applies to the next commit)."""
    if session.info.get(NOTICES):
        mail = mail_settings(current_app.config) if has_app_context() else None
        mail_recorded(session, mail)


def _forget_notices(session: Session, transaction: SessionTransaction) -> None:
    """When the outermost transaction ends (committed or rolled back), nothing is left to mail."""
    if transaction.parent is None:
        forget_recorded(session)


def install_mail_on_commit() -> None:
    """Have every session's commit mail the notices recorded in it (once per process)."""
    if not event.contains(Session, "before_commit", _mail_notices):
        event.listen(Session, "before_commit", _mail_notices)
        event.listen(Session, "after_transaction_end", _forget_notices)
