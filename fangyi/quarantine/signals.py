"""A quarantine point or designated hotel has its Site from the moment the place is saved.

The Site row used to be made on first use (`site_for_place`), so a site registered by the
administrator could not be set up (rooms, beds, groups) until one of its staff had opened a
page. Places live in `people`, below this app, which cannot call up to it: the quarantine app
listens instead.
"""

from __future__ import annotations

from django.db.models.signals import post_save
from django.dispatch import receiver

from fangyi.people.models import Place

from .models import Site
from .services import END_PLACE_KINDS


@receiver(post_save, sender=Place, dispatch_uid="fangyi.quarantine.site_for_new_place")
def make_site(sender, instance: Place, raw: bool = False, **kwargs) -> None:
    if raw or instance.kind not in END_PLACE_KINDS:
        return
    # A place moved to another node moves its site too: the site is scoped by it.
    Site.objects.update_or_create(place=instance, defaults={"node_id": instance.node_id})
