"""Who acts: every ledger entry names a pseudonymous actor, never a person in clear."""
from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass


class NoActorError(RuntimeError):
    pass


@dataclass(frozen=True)
class Actor:
    role: str  # citizen, clerk, department, admin, public, system
    office: str = ""
    id: str = ""  # keyed pseudonym of a user, or the name of a task or command

    def as_json(self) -> dict:
        return {"id": self.id, "office": self.office, "role": self.role}


_current: ContextVar[Actor | Callable[[], Actor] | None] = ContextVar("ledger_actor", default=None)
_action: ContextVar[str] = ContextVar("ledger_action", default="")


def current_actor() -> Actor:
    value = _current.get()
    if value is None:
        raise NoActorError(
            "No actor is set for this ledgered change. Run it inside a request, a Celery task, "
            "a management command, or `with ledger.actor.acting_as(system_actor('why')):`."
        )
    return value() if callable(value) else value


def push_actor(actor: Actor | Callable[[], Actor]):
    return _current.set(actor)


def pop_actor(token) -> None:
    _current.reset(token)


@contextmanager
def acting_as(actor: Actor | Callable[[], Actor]):
    token = push_actor(actor)
    try:
        yield
    finally:
        pop_actor(token)


def current_action() -> str:
    return _action.get()


@contextmanager
def ledger_action(name: str):
    """Names the business action (e.g. `licence.issue`) that the entries written inside record."""
    token = _action.set(name)
    try:
        yield
    finally:
        _action.reset(token)


def system_actor(name: str) -> Actor:
    return Actor(role="system", office="", id=name)


PUBLIC = Actor(role="public", office="", id="anonymous")


def pseudonym(user_id: int | str) -> str:
    from ledger.keys import pseudonym_key

    digest = hmac.new(pseudonym_key(), f"user:{user_id}".encode(), hashlib.sha256).digest()
    return "p-" + digest[:16].hex()


def actor_for_user(user) -> Actor:
    if user is None or not user.is_authenticated:
        return PUBLIC
    role = getattr(user, "role", "") or ("admin" if user.is_superuser else "citizen")
    return Actor(role=role, office=getattr(user, "office", "") or "", id=pseudonym(user.pk))
