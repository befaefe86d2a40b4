"""Photos kept as evidence: checked, stored outside the database, served only through a view
that has already checked who may see them.

An app that takes photos makes a concrete model from `PhotoBase` with a foreign key to what the
photo belongs to (a tip's visit, an enforcement record), calls `photo_store(upload)` before its
transaction and `photo_discard` if the transaction fails, and serves the photo with
`photo_response(photo)` from a view that checks its own policy and writes the access log.

The bytes are kept as received (evidence keeps its original, EXIF included); they are only
accepted when Pillow decodes them as a JPEG, PNG or WebP of sane dimensions.
"""

from __future__ import annotations

import hashlib
import io
import os
import uuid
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import models
from django.http import FileResponse, Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .errors import DomainError

FORMATS = {
    "JPEG": ("image/jpeg", "jpg"),
    "PNG": ("image/png", "png"),
    "WEBP": ("image/webp", "webp"),
}
MAX_PIXELS = 40_000_000  # a 40-megapixel phone photo; more is a decompression bomb
MAX_PER_SUBMISSION = 6


# The OpenAPI answer of an endpoint that serves a photo (pass as `openapi_extra`).
PHOTO_RESPONSE_DOC = {
    "responses": {
        200: {
            "description": "The photo as taken (JPEG, PNG or WebP).",
            "content": {
                t: {"schema": {"type": "string", "format": "binary"}}
                for t, _ext in FORMATS.values()
            },
        }
    }
}


def photo_root() -> Path:
    return Path(settings.DATA_DIR) / "photos"


@dataclass(frozen=True)
class StoredPhoto:
    path: str  # relative to photo_root()
    content_type: str
    size: int
    sha256: str
    width: int
    height: int


class PhotoBase(models.Model):
    """The columns every photo model has. Concrete models add the foreign key to their owner."""

    path = models.CharField(max_length=200, editable=False)
    content_type = models.CharField(max_length=20, editable=False)
    size = models.PositiveIntegerField(gettext_lazy("size (bytes)"), editable=False)
    sha256 = models.CharField(max_length=64, editable=False)
    width = models.PositiveIntegerField(editable=False)
    height = models.PositiveIntegerField(editable=False)
    uploaded_at = models.DateTimeField(default=timezone.now, editable=False)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        abstract = True
        ordering = ["uploaded_at", "id"]

    def fill(self, stored: StoredPhoto) -> None:
        for name in ("path", "content_type", "size", "sha256", "width", "height"):
            setattr(self, name, getattr(stored, name))


def photo_check(data: bytes, *, field: str = "photos") -> tuple[str, str, int, int]:
    """(content type, extension, width, height) of an acceptable photo, else DomainError."""
    from PIL import Image, UnidentifiedImageError

    limit = settings.FANGYI_PHOTO_MAX_BYTES
    if len(data) > limit:
        raise DomainError(
            _("A photo may be at most %(mb)s MB.") % {"mb": limit // (1024 * 1024)}, field=field
        )
    if not data:
        raise DomainError(_("The photo is empty."), field=field)
    try:
        with Image.open(io.BytesIO(data)) as img:
            fmt = img.format
            width, height = img.size
            if fmt not in FORMATS:
                raise DomainError(_("Send a JPEG, PNG or WebP photo."), field=field)
            if width * height > MAX_PIXELS:
                raise DomainError(_("The photo has too many pixels."), field=field)
            img.verify()
    except DomainError:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise DomainError(_("Send a JPEG, PNG or WebP photo."), field=field) from None
    content_type, ext = FORMATS[fmt]
    return content_type, ext, width, height


def photo_store(upload, *, field: str = "photos") -> StoredPhoto:
    """Check an uploaded file (a Django UploadedFile, or bytes) and write it under
    DATA_DIR/photos/YYYY/MM/<uuid>.<ext>, readable by the server's user only."""
    if isinstance(upload, bytes | bytearray):
        data = bytes(upload)
    else:
        limit = settings.FANGYI_PHOTO_MAX_BYTES
        if getattr(upload, "size", 0) and upload.size > limit:
            raise DomainError(
                _("A photo may be at most %(mb)s MB.") % {"mb": limit // (1024 * 1024)},
                field=field,
            )
        data = upload.read(limit + 1)
    content_type, ext, width, height = photo_check(data, field=field)
    now = timezone.now()
    rel = f"{now:%Y/%m}/{uuid.uuid4().hex}.{ext}"
    target = photo_root() / rel
    target.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    return StoredPhoto(
        path=rel,
        content_type=content_type,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        width=width,
        height=height,
    )


def photos_store(uploads, *, field: str = "photos") -> list[StoredPhoto]:
    """Several photos for one submission, all checked before any is kept."""
    uploads = list(uploads or [])
    if len(uploads) > MAX_PER_SUBMISSION:
        raise DomainError(
            _("At most %(n)s photos at a time.") % {"n": MAX_PER_SUBMISSION}, field=field
        )
    stored: list[StoredPhoto] = []
    try:
        for upload in uploads:
            stored.append(photo_store(upload, field=field))
    except DomainError:
        photo_discard(stored)
        raise
    return stored


def photo_discard(stored) -> None:
    """Remove files written for a submission that was then refused."""
    for s in stored:
        try:
            (photo_root() / s.path).unlink()
        except FileNotFoundError:
            pass


def photo_response(photo: PhotoBase) -> FileResponse:
    """The photo's bytes, for a view that has checked the policy. Never cached by proxies."""
    target = (photo_root() / photo.path).resolve()
    if photo_root().resolve() not in target.parents or not target.exists():
        raise Http404
    response = FileResponse(open(target, "rb"), content_type=photo.content_type)  # noqa: SIM115
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Disposition"] = "inline"
    return response
