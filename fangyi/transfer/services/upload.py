"""An upload: checked at once (type, size, the header row), stored under the data folder, and
its job and background task created."""

from __future__ import annotations

import uuid
from pathlib import Path

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import translation
from django.utils.translation import gettext as _

from fangyi.core import access
from fangyi.core.audit import audit_record
from fangyi.core.errors import DomainError, NotFound
from fangyi.core.idempotency import replay
from fangyi.core.models import Node, User

# The module, not its task: tasks imports this package, and the task is read when enqueued.
from .. import sheets, tasks
from ..models import ImportJob
from .cells import NAMESPACE  # noqa: F401  (its old home)
from .storage import BATCH, MAX_ROWS, stored_path  # noqa: F401  (their old home)

MAX_UPLOAD_BYTES = 10 * 1024 * 1024


def max_upload_bytes() -> int:
    return int(getattr(settings, "FANGYI_IMPORT_MAX_BYTES", MAX_UPLOAD_BYTES))


def imports_dir() -> Path:
    path = Path(settings.DATA_DIR) / "imports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _job_node(actor: User) -> Node:
    node = actor.nodes.order_by("depth", "path").first()
    if node is None:
        raise DomainError(_("Your account has no jurisdiction to import into."), field="file")
    return node


def import_create(
    *,
    actor: User,
    filename: str,
    data: bytes,
    sweep=None,
    language: str = "",
    enqueue: bool = True,
    client_id: uuid.UUID | None = None,
) -> ImportJob:
    """Check an uploaded sheet, store it, make its job and queue the work.

    `sweep`, when given, is one the actor may see (screening.selectors.sweep_get) and open:
    each row's household must then be in it, and each row records a door visit. A wrong type,
    an oversized or unreadable file, or missing headers raise DomainError on `file` and store
    nothing."""
    access.require(actor, "import.run")

    # The same upload sent twice (a double tap, a retried request): one job.
    def same(done: ImportJob) -> bool:
        return done.created_by_id == actor.pk

    def refuse() -> NotFound:
        return NotFound(_("No such import."))

    done = replay(ImportJob, client_id, same, refuse=refuse)
    if done is not None:
        return done
    filename = (Path(filename or "").name or "sheet")[:200]
    fmt = sheets.fmt_of(filename)
    if fmt is None:
        raise DomainError(
            _("Upload an Excel workbook (.xlsx) or a CSV file (.csv); %(name)s is neither.")
            % {"name": filename},
            field="file",
        )
    limit = max_upload_bytes()
    if len(data) > limit:
        raise DomainError(
            _("The file is %(size)s MB; at most %(limit)s MB can be imported: split it.")
            % {"size": f"{len(data) / 1048576:.1f}", "limit": f"{limit / 1048576:g}"},
            field="file",
        )
    if not data:
        raise DomainError(_("The file is empty."), field="file")
    _headers, encoding = sheets.peek(data, fmt)
    if sweep is not None and sweep.status != "open":
        raise DomainError(_("This sweep is closed: choose an open one."), field="sweep")
    node = _job_node(actor)

    name = f"imports/{uuid.uuid4().hex}.{fmt}"
    path = stored_path(name)
    imports_dir()
    path.write_bytes(data)
    try:
        with transaction.atomic():
            job = ImportJob.objects.create(
                node=node,
                sweep=sweep,
                created_by=actor,
                filename=filename,
                stored=name,
                language=(language or translation.get_language() or "")[:10],
                encoding=encoding,
                client_id=client_id,
            )
            audit_record(
                actor,
                "fangyi.importjob.created",
                job,
                node_path=node.path,
                changes={
                    "filename": [None, filename],
                    "size": [None, len(data)],
                    **({"sweep": [None, sweep.pk]} if sweep is not None else {}),
                },
            )
            if enqueue:
                # Inside the block: django-tasks-db stores the task as a row of this
                # transaction, so the job and its task commit together or not at all
                # (docs/decisions.md, "Background work is enqueued inside the transaction").
                tasks.import_run.enqueue(job.pk)
    except IntegrityError:
        path.unlink(missing_ok=True)
        # The same upload sent twice at once: the first one's job answers.
        done = replay(ImportJob, client_id, same, refuse=refuse)
        if done is None:
            raise
        return done
    except Exception:
        path.unlink(missing_ok=True)
        raise
    return job
