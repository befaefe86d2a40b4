"""Background tasks of fangyi.transfer, run by `fangyi worker` (django-tasks' db_worker)."""

from __future__ import annotations

from django_tasks import task

from .models import ImportJob
from .services.jobs import import_process


@task()
def import_run(job_id: int) -> dict:
    """Import the rows of one uploaded sheet (services.import_process)."""

    job = ImportJob.objects.select_related("created_by", "sweep", "node").get(pk=job_id)
    job = import_process(job)
    return {"status": job.status, "total": job.total, "good": job.good, "bad": job.bad}
