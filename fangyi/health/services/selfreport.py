"""Personal self-report links: a token per person, stored as a digest, and the declaration
made through it."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import uuid

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fangyi.core import access
from fangyi.core.audit import audit_record
from fangyi.core.errors import (
    NotFound,
)
from fangyi.core.idempotency import replay
from fangyi.core.models import User
from fangyi.people.models import Person

from ..models import (
    Declaration,
    DeclarationSource,
    RiskSettings,
    SelfReportLink,
)
from .declarations import DeclarationInput, _store, _visible_person, declaration_clean
from .rules import rules_config


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def selfreport_link_create(*, actor: User, person: Person) -> tuple[SelfReportLink, str]:
    """A new personal link for `person`; returns the link row and the token, which is shown
    once and never stored (only its SHA-256). Older links of the person are revoked."""
    access.require(actor, "selfreport.issue")
    _visible_person(actor, person)
    now = timezone.now()
    revoked = SelfReportLink.objects.filter(person=person, revoked__isnull=True).update(revoked=now)
    token = secrets.token_urlsafe(24)
    link = SelfReportLink.objects.create(
        person=person,
        digest=_digest(token),
        created_by=actor,
        expires=now + dt.timedelta(days=RiskSettings.current().self_report_days),
    )
    audit_record(
        actor,
        "fangyi.selfreportlink.created",
        link,
        node_path=person.node.path,
        changes={"expires": [None, link.expires.isoformat()], "revoked_before": [None, revoked]},
    )
    return link, token


def selfreport_resolve(token: str) -> SelfReportLink:
    """The link a token names, if it is in force; unknown, expired and revoked links all
    answer the same NotFound."""
    token = (token or "").strip()
    link = None
    if 10 <= len(token) <= 100:
        link = (
            SelfReportLink.objects.select_related("person", "person__node")
            .filter(digest=_digest(token), revoked__isnull=True, expires__gt=timezone.now())
            .first()
        )
    if link is None:
        raise NotFound(
            _(
                "This link is not valid: it has expired, was replaced by a newer one, or never existed."
            )
        )
    now = timezone.now()
    if link.last_used is None or (now - link.last_used).total_seconds() > 60:
        SelfReportLink.objects.filter(pk=link.pk).update(last_used=now)
    return link


@transaction.atomic
def selfreport_declare(
    *, link: SelfReportLink, data: DeclarationInput, client_id: uuid.UUID | None = None
) -> Declaration:
    """A resident's own declaration through their link: stored PENDING (source "self") for a
    worker to confirm. The link is the authority; there is no user."""

    def same(done: Declaration) -> bool:
        return done.person_id == link.person_id

    def refuse() -> NotFound:
        return NotFound(_("No such declaration."))

    if (done := replay(Declaration, client_id, same, refuse=refuse)) is not None:
        return done
    config = rules_config()
    declaration_clean(data, config=config)
    return _store(
        actor=None,
        person=link.person,
        data=data,
        visit=None,
        source=DeclarationSource.SELF,
        client_id=client_id,
        config=config,
        same=same,
        refuse=refuse,
    )
