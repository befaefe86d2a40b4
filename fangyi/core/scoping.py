"""The one road to the rows a user may see: `Model.objects.visible_to(user)`.

Every model that holds personal data or is scoped by jurisdiction declares where its node's
path is (`scope_fields`, default `("node__path",)`; several fields are OR'ed: a placement is
seen by the person's jurisdiction or by the site's) and takes `objects = ScopedQuerySet.as_manager()`
(or a subclass that adds its role's rule, e.g. site staff by `user.place`). The manager does not
filter by default: `Model.objects.all()` is still every row; only `visible_to` narrows.

`access.node_q` stays the primitive; this module and the querysets are its only callers.
"""

from __future__ import annotations

from functools import reduce
from operator import or_

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext as _

from . import access
from .errors import NotFound
from .models import User


class ScopedQuerySet(models.QuerySet):
    """A queryset that knows how its model is scoped by jurisdiction."""

    def scope_q(self, user: User, field: str | None = None) -> Q:
        """The condition for the rows `user` may see, as a Q to combine with others.

        With `field`, only that path field (a relation's node, e.g. "from_node__path")."""
        if field is not None:
            return access.node_q(user, field)
        fields = getattr(self.model, "scope_fields", ("node__path",))
        return reduce(or_, (access.node_q(user, f) for f in fields))

    def visible_to(self, user: User, field: str | None = None) -> ScopedQuerySet:
        """The rows `user` may see (by jurisdiction, plus the model's role rules)."""
        return self.filter(self.scope_q(user, field))


def path_q(user: User, field: str = "node__path") -> Q:
    """The same road for core's own rows, whose models cannot carry the manager (core's models
    sit below this module): audit and access-log entries by `node_path`, user-node links."""
    return access.node_q(user, field)


def visible(qs: models.QuerySet, user: User, field: str = "node__path") -> models.QuerySet:
    """`qs` narrowed to what `user` may see, for core's own rows (see path_q)."""
    return qs.filter(path_q(user, field))


def scoped_get(
    model: type[models.Model],
    user: User,
    pk: int | None,
    *,
    field: str | None = None,
    message: str | None = None,
    related: tuple[str, ...] = (),
):
    """The record `pk` of `model` among those `user` may see, or the NotFound naming `field`:
    one outside the jurisdiction answers as one that does not exist. The base of the apps'
    `<entity>_get` selectors and of the lookups a page makes of another app's record (a tip's
    panel on the support page); no policy check here, the caller's selector makes its own."""
    obj = None
    if pk is not None:
        qs = model._default_manager.visible_to(user)  # type: ignore[attr-defined]
        obj = qs.select_related(*related).filter(pk=pk).first()
    if obj is None:
        name = model._meta.verbose_name
        raise NotFound(message or _("No such %(thing)s.") % {"thing": name}, field=field)
    return obj
