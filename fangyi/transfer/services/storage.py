"""Where uploaded sheets are kept, and the sizes an import works in: what the upload and the
import's job both read (a module of its own, so that the job need not import the upload,
which imports the task, which imports the job)."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.utils.translation import gettext as _

from fangyi.core.errors import NotFound

MAX_ROWS = 100_000
BATCH = 500


def stored_path(name: str) -> Path:
    """A stored file's path; names are made here and never come from the user."""
    path = (Path(settings.DATA_DIR) / name).resolve()
    if not str(path).startswith(str(Path(settings.DATA_DIR).resolve())):
        raise NotFound(_("No such file."))
    return path
