"""A retry's `client_id` stores once: the one replay rule every write with a client id follows.

A phone in a stairwell sends a form, loses the answer and sends it again; two taps send it
twice at once. Each record that takes a `client_id` has a unique constraint on it, and the
service answers a repeat with the record already stored, so the worker sees one record, not
two and not an error. Two rules hold everywhere, which is why they live here and not in each
app:

- a client id that names a record the caller may not have (another person's, another
  household's, one outside the caller's jurisdiction) is refused with `client_id_taken` and
  nothing about that record is told;
- a concurrent retry (the unique constraint refuses the second insert) is answered with the
  record the first one stored, checked by the same rule, the failed insert rolled back to a
  savepoint so the caller's transaction goes on.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from django.db import IntegrityError, models, transaction

from .errors import DomainError, client_id_taken

M = TypeVar("M", bound=models.Model)


def replay(
    model: type[M],
    client_id: Any,
    same: Callable[[M], bool],
    *,
    related: Iterable[str] = (),
    refuse: Callable[[], DomainError] = client_id_taken,
) -> M | None:
    """The record a retry's `client_id` already stored, else None (also for no client id).

    `same` says whether the stored record is the one this call would have stored (the same
    person, the same household, visible to the caller...); when it is not, `refuse()` is
    raised."""
    if not client_id:
        return None
    qs = model._default_manager.filter(client_id=client_id)
    if related:
        qs = qs.select_related(*related)
    done = qs.first()
    if done is not None and not same(done):
        raise refuse()
    return done


def create_once(
    model: type[M],
    client_id: Any,
    same: Callable[[M], bool],
    write: Callable[[], M],
    *,
    related: Iterable[str] = (),
    refuse: Callable[[], DomainError] = client_id_taken,
) -> M:
    """Run `write` (the insert and what goes with it, e.g. its audit row) in a savepoint.

    When the insert loses a race on the client id's unique constraint, the winner is answered
    instead, under the same `same` rule as `replay`; any other IntegrityError is raised."""
    try:
        with transaction.atomic():
            return write()
    except IntegrityError:
        done = replay(model, client_id, same, related=related, refuse=refuse)
        if done is None:
            raise
        return done
