"""Personal self-report links: a token per person, stored as a digest, and the declaration
made through it."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import uuid

from django.core import signing
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fangyi.core import access
from fangyi.core.audit import audit_entry, audit_record
from fangyi.core.errors import (
    NotFound,
)
from fangyi.core.idempotency import replay
from fangyi.core.models import AuditEntry, User
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


# A day's token: the link's id and the local date, signed (HMAC of SECRET_KEY, this salt), so a
# message sent to the person (the morning SMS) carries a link to the same pages without the
# raw token, which is never stored. "." never occurs in a raw token (URL-safe base64).
DAY_TOKEN_SALT = "fangyi.selfreport_day_token"  # noqa: S105 - a salt, not a secret
_DAY_SEP = "."


def _day_signer() -> signing.Signer:
    return signing.Signer(salt=DAY_TOKEN_SALT, sep=_DAY_SEP)


def selfreport_day_token(link_id: int, day: dt.date) -> str:
    """A token for the link `link_id` that opens its self-report pages on `day` (local date)
    only, and only while the link itself is in force (a revoked or expired link ends it)."""
    return _day_signer().sign(f"{link_id}-{day:%Y%m%d}")


def _day_token_link_id(token: str) -> int | None:
    try:
        value = _day_signer().unsign(token)
    except signing.BadSignature:
        return None
    link_id, _sep, day = value.partition("-")
    if not link_id.isdigit() or day != f"{timezone.localdate():%Y%m%d}":
        return None
    return int(link_id)


def selfreport_links_in_force(
    person_paths: dict[int, str], now: dt.datetime | None = None
) -> dict[int, int]:
    """{person id: id of a link in force} for the persons (`person_paths`: person id → the
    person's node path), a new link for those who have none: made by no one, its token thrown
    away, so only day tokens open it; audited as the system's. Three queries however many
    persons; the caller's transaction holds the new links."""
    now = now or timezone.now()
    found: dict[int, int] = {}
    rows = (
        SelfReportLink.objects.filter(
            person_id__in=list(person_paths), revoked__isnull=True, expires__gt=now
        )
        .order_by("person_id", "-created", "-id")
        .values_list("person_id", "id")
    )
    for person_id, link_id in rows:
        found.setdefault(person_id, link_id)
    missing = [p for p in person_paths if p not in found]
    if not missing:
        return found
    expires = now + dt.timedelta(days=RiskSettings.current().self_report_days)
    made = [
        SelfReportLink(person_id=p, digest=_digest(secrets.token_urlsafe(24)), expires=expires)
        for p in missing
    ]
    SelfReportLink.objects.bulk_create(made)
    if any(link.pk is None for link in made):  # a database that returns no ids from a bulk insert
        ids = dict(
            SelfReportLink.objects.filter(digest__in=[m.digest for m in made]).values_list(
                "digest", "id"
            )
        )
        for link in made:
            link.pk = ids[link.digest]
    AuditEntry.objects.bulk_create(
        [
            audit_entry(
                None,
                "fangyi.selfreportlink.created",
                None,
                object_type="selfreportlink",
                object_id=link.pk,
                object_repr=f"{link.person_id} ({expires:%Y-%m-%d})",
                node_path=person_paths[link.person_id],
                changes={"expires": [None, expires.isoformat()], "for": [None, "sms"]},
            )
            for link in made
        ]
    )
    found.update((link.person_id, link.pk) for link in made)
    return found


def selfreport_resolve(token: str) -> SelfReportLink:
    """The link a token names, if it is in force; unknown, expired and revoked links all
    answer the same NotFound. A day token (selfreport_day_token) names its link on its day."""
    token = (token or "").strip()
    link = None
    if _DAY_SEP in token and 10 <= len(token) <= 100:
        link_id = _day_token_link_id(token)
        if link_id is not None:
            link = (
                SelfReportLink.objects.select_related("person", "person__node")
                .filter(pk=link_id, revoked__isnull=True, expires__gt=timezone.now())
                .first()
            )
    elif 10 <= len(token) <= 100:
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
