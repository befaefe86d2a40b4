"""Import jobs: an uploaded sheet, processed in the background, with its progress."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from fangyi.core.models import Node
from fangyi.core.scoping import ScopedQuerySet


class JobStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class ImportJob(models.Model):
    kind = models.CharField(_("kind"), max_length=20, default="screening")
    node = models.ForeignKey(
        Node, verbose_name=_("jurisdiction"), on_delete=models.PROTECT, related_name="+"
    )
    sweep = models.ForeignKey(
        "screening.Sweep",
        verbose_name=_("sweep"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created = models.DateTimeField(auto_now_add=True)
    filename = models.CharField(_("file"), max_length=200)
    stored = models.CharField(max_length=300, editable=False)  # path under DATA_DIR
    status = models.CharField(
        _("status"), max_length=10, choices=JobStatus.choices, default=JobStatus.QUEUED
    )
    total = models.PositiveIntegerField(_("rows"), default=0)
    processed = models.PositiveIntegerField(_("processed"), default=0)
    good = models.PositiveIntegerField(_("stored"), default=0)
    bad = models.PositiveIntegerField(_("with errors"), default=0)
    errors_file = models.CharField(max_length=300, blank=True, editable=False)
    message = models.TextField(blank=True)
    # The uploader's language, so that the worker writes the errors in it; the encoding of a
    # csv upload, so that the errors file is written in the same one (GBK from Chinese Excel).
    language = models.CharField(max_length=10, blank=True)
    encoding = models.CharField(max_length=20, blank=True)
    # The upload form's client-generated id: the same upload sent twice makes one job.
    client_id = models.UUIDField(null=True, blank=True, unique=True, editable=False)
    finished = models.DateTimeField(null=True, blank=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("import")
        verbose_name_plural = _("imports")
        ordering = ["-created", "-id"]

    def __str__(self) -> str:
        return self.filename

    @property
    def fmt(self) -> str:
        """The upload's format: "xlsx" or "csv"."""
        return "csv" if self.stored.lower().endswith(".csv") else "xlsx"

    @property
    def finished_ok(self) -> bool:
        return self.status == JobStatus.DONE

    @property
    def percent(self) -> int:
        return int(100 * self.processed / self.total) if self.total else 0
